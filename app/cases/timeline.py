"""The case file: a read model over the records each capability keeps (intake, contacts,
assessments, routing, handoffs, consents, legal bases, deadlines, and the case's own
coordinators, involvements, meetings, agreements and notes) — nothing is copied into a log of
its own. Gathered here (I/O); ordered, filtered per audience and paged by app.cases.rules."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.auth.models import ApiClient, Organisation
from app.auth.principal import Principal
from app.cases import rules
from app.cases.models import Agreement, CaseMeeting, CaseNote, CoordinatorAssignment, FactCorrection, Involvement
from app.cases.rules import Actor, Entry
from app.cases.schemas import ActorOut, TimelineDetails, TimelineEntryOut, TimelinePage
from app.cases.vocab import TimelineType
from app.consent.models import LegalBasisRecord
from app.consent.rules import LegalBasis
from app.http.pagination import Keyset, Pagination
from app.intakes.models import Assessment, Contact, Intake, Reopening
from app.intakes.service import IntakeBundle, visible_bundle
from app.vocab import ConcernSource, IntakeSource

T = TypeVar("T")
SYSTEM = Actor(organisation=None, client="system")
_RANK = {t: i for i, t in enumerate(TimelineType)}


# (moment, tiebreak key) of the last item of a page: app.http.pagination's typed cursor.
BY_MOMENT = Keyset(AwareDatetime, str)


def page_of(
    items: Sequence[T], key: Callable[[T], tuple[datetime, str]], page: Pagination
) -> tuple[list[T], str | None]:
    """A page of items ordered by `key` (read models, ordered in memory), and the cursor of the
    next page (None at the end), with the one pagination's typed cursor."""
    rest = rules.after(items, key, page.after(BY_MOMENT))
    return page.cut(rest[: page.fetch], BY_MOMENT, key)


def _entry(
    at: datetime,
    kind: TimelineType,
    actor: Actor,
    summary: str,
    details: dict[str, Any],
    of: uuid.UUID | str,
    handoff_organisation: uuid.UUID | None = None,
) -> Entry:
    return Entry(
        at=at,
        type=kind,
        actor=actor,
        summary=summary,
        details=details,
        key=f"{_RANK[kind]:02d}:{of}",
        handoff_organisation=handoff_organisation,
    )


def _z(moment: datetime | None) -> str | None:
    return clock.iso_z(moment) if moment else None


async def _client_organisations(db: AsyncSession, client_ids: set[str]) -> dict[str, str]:
    if not client_ids:
        return {}
    rows = await db.execute(
        select(ApiClient.client_id, Organisation.code)
        .join(Organisation, Organisation.id == ApiClient.organisation_id)
        .where(ApiClient.client_id.in_(client_ids))
    )
    return {row[0]: row[1] for row in rows.all()}


async def gather(db: AsyncSession, bundle: IntakeBundle) -> list[Entry]:
    intake = bundle.intake
    iid = intake.id
    contacts = (await db.scalars(select(Contact).where(Contact.intake_id == iid))).all()
    assessments = (await db.scalars(select(Assessment).where(Assessment.intake_id == iid))).all()
    bases = (await db.scalars(select(LegalBasisRecord).where(LegalBasisRecord.intake_id == iid))).all()
    coordinators = (await db.scalars(select(CoordinatorAssignment).where(CoordinatorAssignment.intake_id == iid))).all()
    involvements = (await db.scalars(select(Involvement).where(Involvement.intake_id == iid))).all()
    meetings = (await db.scalars(select(CaseMeeting).where(CaseMeeting.intake_id == iid))).all()
    agreements = (await db.scalars(select(Agreement).where(Agreement.intake_id == iid))).all()
    notes = (await db.scalars(select(CaseNote).where(CaseNote.intake_id == iid))).all()
    merged = (
        await db.execute(select(Intake.id, Intake.reference, Intake.closed_at).where(Intake.merged_into == iid))
    ).all()
    corrections = (await db.scalars(select(FactCorrection).where(FactCorrection.intake_id == iid))).all()
    reopened = (await db.scalars(select(Reopening).where(Reopening.intake_id == iid))).all()
    routing = intake.routing or {}
    recommendation, decision = routing.get("recommendation"), routing.get("decision")
    clients = {c.recorded_by for c in contacts} | {v.recorded_by for v in assessments}
    clients |= {h.offered_by for h in bundle.handoffs} | {r.reopened_by for r in reopened}
    clients |= {str(intake.created_by_client or "")}
    clients |= {str(((recommendation or {}) and routing.get("recommendedBy")) or "")}
    clients |= {str((decision or {}).get("decidedBy") or "")}
    orgs = await _client_organisations(db, {c for c in clients if c})
    handoff_orgs = {
        row[0]: row[1]
        for row in (
            await db.execute(
                select(Organisation.id, Organisation.code).where(
                    Organisation.id.in_({h.organisation_id for h in bundle.handoffs} or {uuid.UUID(int=0)})
                )
            )
        ).all()
    }

    def by_client(client: str | None) -> Actor:
        return Actor(organisation=orgs.get(client or ""), client=client) if client else SYSTEM

    entries: list[Entry] = []
    add = entries.append
    self_registered = intake.source == IntakeSource.SELF_REGISTRATION
    add(
        _entry(
            intake.received_at,
            TimelineType.RECEIVED,
            Actor("self", "self-registration") if self_registered else by_client(intake.created_by_client),
            "Self-registration received" if self_registered else "Referral received",
            {
                "reference": intake.reference,
                "source": intake.source,
                "concerns": [c["code"] for c in intake.concerns if c.get("source") != ConcernSource.ASSESSMENT],
                "referrerRole": (intake.referrer or {}).get("role"),
                "legalBasis": LegalBasis.MELDCODE if intake.basis_justification else LegalBasis.CONSENT,
            },
            iid,
        )
    )
    for c in contacts:
        add(
            _entry(
                c.at,
                TimelineType.CONTACT_ATTEMPT,
                by_client(c.recorded_by),
                f"Contact by {c.channel}: {'reached' if c.reached else 'not reached'}",
                {"channel": c.channel, "reached": c.reached, "note": c.note, "recordedAt": _z(c.recorded_at)},
                c.id,
            )
        )
    for visit in assessments:
        add(
            _entry(
                visit.visited_at,
                TimelineType.ASSESSMENT,
                by_client(visit.recorded_by),
                f"Intake conversation ({visit.location})",
                {
                    "location": visit.location,
                    "concerns": visit.concerns,
                    "safetyConcern": visit.safety_concern,
                    "notes": visit.notes,
                    "recordedAt": _z(visit.recorded_at),
                },
                visit.id,
            )
        )
    if isinstance(recommendation, dict) and routing.get("recommendedAt"):
        add(
            _entry(
                datetime.fromisoformat(str(routing["recommendedAt"])),
                TimelineType.ROUTING_RECOMMENDATION,
                by_client(routing.get("recommendedBy")),
                f"Router recommends {recommendation.get('programme')}",
                {
                    k: recommendation.get(k)
                    for k in ("programme", "reasons", "alternatives", "additional", "excluded", "advice", "router")
                    if k in recommendation
                },
                "recommendation",
            )
        )
    if isinstance(decision, dict) and decision.get("decidedAt"):
        add(
            _entry(
                datetime.fromisoformat(str(decision["decidedAt"])),
                TimelineType.ROUTING_DECISION,
                by_client(decision.get("decidedBy")),
                f"Decided: {decision.get('programme')}",
                {
                    "programme": decision.get("programme"),
                    "override": decision.get("override"),
                    "reason": decision.get("reason"),
                },
                "decision",
            )
        )
    for h in bundle.handoffs:
        org = handoff_orgs.get(h.organisation_id)
        programme_actor = Actor(organisation=org, client=None)
        base = {"handoffId": str(h.id), "programme": h.programme, "organisation": org}
        steps: list[tuple[datetime | None, TimelineType, Actor, str, dict[str, Any]]] = [
            (h.offered_at, TimelineType.HANDOFF_OFFERED, by_client(h.offered_by), f"Offered to {h.programme}", {}),
            (h.accepted_at, TimelineType.HANDOFF_ACCEPTED, programme_actor, f"{h.programme} accepted", {}),
            (
                h.declined_at,
                TimelineType.HANDOFF_DECLINED,
                programme_actor,
                f"{h.programme} declined",
                {"reason": h.decline_reason},
            ),
            (h.revoked_at, TimelineType.HANDOFF_REVOKED, SYSTEM, f"Handoff to {h.programme} revoked", {}),
            (
                h.first_contact_at,
                TimelineType.HANDOFF_FIRST_CONTACT,
                programme_actor,
                f"{h.programme}: first contact",
                {},
            ),
            (
                h.support_started_at,
                TimelineType.HANDOFF_SUPPORT_STARTED,
                programme_actor,
                f"{h.programme}: support started",
                {},
            ),
            (
                h.ended_at,
                TimelineType.HANDOFF_ENDED,
                programme_actor,
                f"{h.programme}: support ended",
                {"reason": h.end_reason, "note": h.end_note},
            ),
        ]
        for at, kind, actor, summary, details in steps:
            if at is not None:
                add(_entry(at, kind, actor, summary, {**base, **details}, h.id, h.organisation_id))
    for r in bundle.consents:
        kind = TimelineType.CONSENT_GIVEN if r.given else TimelineType.CONSENT_WITHDRAWN
        add(
            _entry(
                r.recorded_at,
                kind,
                Actor(r.recorded_by_organisation, r.recorded_by_client),
                f"Consent {'given' if r.given else 'withdrawn'}: {r.scope}",
                {"scope": r.scope, "obtainedAt": _z(r.obtained_at), "method": r.method, "note": r.note},
                r.id,
            )
        )
    for b in bases:
        if b.confirmed_at is None:
            continue
        add(
            _entry(
                b.confirmed_at,
                TimelineType.LEGAL_BASIS_CHANGED,
                Actor(b.confirmed_by_organisation, b.confirmed_by_client, b.confirmed_by_user),
                f"Legal basis: {b.basis}",
                {
                    "basis": b.basis,
                    "source": b.source,
                    "justification": b.justification,
                    "requestedBy": {
                        "organisation": b.requested_by_organisation,
                        "client": b.requested_by_client,
                        "user": b.requested_by_user,
                    },
                },
                b.id,
            )
        )
    for co in coordinators:
        add(
            _entry(
                co.since,
                TimelineType.COORDINATOR_CHANGED,
                co.recorder(),
                f"Coordinator: {co.name} ({co.organisation})",
                {
                    "name": co.name,
                    "phone": co.phone,
                    "email": co.email,
                    "organisation": co.organisation,
                    "userId": co.user_id,
                },
                co.id,
            )
        )
    for inv in involvements:
        who = {
            "involvementId": str(inv.id),
            "role": inv.role,
            "source": inv.source,
            "organisation": inv.organisation,
            "organisationName": inv.organisation_name,
            "professionalName": inv.professional_name,
        }
        add(
            _entry(
                inv.recorded_at,
                TimelineType.INVOLVEMENT_ADDED,
                inv.recorder(),
                f"Involved: {inv.role} ({inv.organisation_name or inv.organisation})",
                {**who, "since": _z(inv.since)},
                inv.id,
            )
        )
        if inv.ended_at is not None:
            add(
                _entry(
                    inv.ended_at,
                    TimelineType.INVOLVEMENT_ENDED,
                    Actor(inv.ended_by_organisation, inv.ended_by_client, inv.ended_by_user),
                    f"No longer involved: {inv.role} ({inv.organisation_name or inv.organisation})",
                    {**who, "until": _z(inv.until)},
                    inv.id,
                )
            )
    for m in meetings:
        own = sorted((a for a in agreements if a.meeting_id == m.id), key=lambda a: a.position)
        add(
            _entry(
                m.at,
                TimelineType.CASE_MEETING,
                m.recorder(),
                f"Case meeting with {len(m.participants)} participants, {len(own)} agreements",
                {
                    "caseMeetingId": str(m.id),
                    "participants": m.participants,
                    "summary": m.summary,
                    "agreements": [
                        {"id": str(a.id), "what": a.what, "owner": a.owner, "dueDate": a.due_date.isoformat()}
                        for a in own
                    ],
                },
                m.id,
            )
        )
    for a in agreements:
        if a.done_at is not None:
            add(
                _entry(
                    a.done_at,
                    TimelineType.AGREEMENT_DONE,
                    Actor(a.done_by_organisation, a.done_by_client, a.done_by_user),
                    "Agreement done",
                    {"agreementId": str(a.id), "what": a.what, "owner": a.owner, "note": a.done_note},
                    a.id,
                )
            )
    for n in notes:
        add(
            _entry(
                n.recorded_at,
                TimelineType.NOTE,
                n.recorder(),
                "Note",
                {"text": n.text},
                n.id,
            )
        )
    for other_id, reference, closed_at in merged:
        if closed_at is not None:
            add(
                _entry(
                    closed_at,
                    TimelineType.MERGED,
                    SYSTEM,
                    f"{reference} merged into this case",
                    {"intakeId": str(other_id), "reference": reference},
                    other_id,
                )
            )
    for fix in corrections:
        add(
            _entry(
                fix.at,
                TimelineType.FACTS_CORRECTED,
                fix.recorder(),
                f"Facts corrected: {', '.join(str(f) for f in fix.fields)}",
                {"fields": fix.fields, "safetyConcern": fix.safety_concern, "reason": fix.reason},
                fix.id,
            )
        )
    for again in reopened:
        add(
            _entry(
                again.at,
                TimelineType.REOPENED,
                by_client(again.reopened_by),
                "Case reopened",
                {"reason": again.reason, "closeReason": again.previous_close_reason},
                again.id,
            )
        )
    if intake.closed_at is not None:
        add(
            _entry(
                intake.closed_at,
                TimelineType.CLOSED,
                SYSTEM,
                f"Closed: {intake.close_reason}",
                {
                    "closeReason": intake.close_reason,
                    "note": routing.get("closeNote"),
                    "mergedInto": _str(intake.merged_into),
                },
                iid,
            )
        )
    for d in bundle.deadlines:
        if d.breached_emitted_at is not None:
            add(
                _entry(
                    d.due_at,
                    TimelineType.DEADLINE_BREACHED,
                    SYSTEM,
                    f"Deadline passed unmet: {d.phase}",
                    {"phase": d.phase, "dueAt": _z(d.due_at)},
                    d.id,
                )
            )
    return rules.ordered(entries)


def _str(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None


def entry_out(e: Entry) -> TimelineEntryOut:
    return TimelineEntryOut(
        at=e.at,
        type=e.type,
        actor=ActorOut(organisation=e.actor.organisation, client=e.actor.client, user=e.actor.user),
        summary=e.summary,
        details=TimelineDetails.model_validate(e.details),
    )


async def read(db: AsyncSession, principal: Principal, intake_id: uuid.UUID, page: Pagination) -> TimelinePage:
    """Staff see every entry; a programme with a live handoff (and sharing consent) its own
    handoff's entries, the involvements and the coordinator; anyone else 404. One access-log row."""
    bundle = await visible_bundle(db, principal, intake_id)
    entries = await gather(db, bundle)
    if not principal.is_staff:
        entries = [e for e in entries if rules.programme_sees(e, principal.organisation_id)]
    items, next_cursor = page_of(entries, lambda e: (e.at, e.key), page)
    basis = bundle.access_basis() if principal.is_staff else bundle.decide_basis_for_programme()
    await audit.record(db, principal, "read", [(intake_id, basis)])
    return TimelinePage(items=[entry_out(e) for e in items], next_cursor=next_cursor)
