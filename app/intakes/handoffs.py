"""Handoffs: offer an intake to a programme, and each step of that one handoff. Each loads the
intake under its row lock, asks the pure machine (app.handoffs.lifecycle), changes the
handoff, derives the intake's status from all its handoffs, and writes the event and the
audit row in the same transaction (app.intakes.workflow.Change). Intake changes, so here:
the handoffs package (machine, tables, schemas) sits below intakes; its routes above."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.auth.models import Organisation
from app.auth.principal import Principal
from app.consent.rules import Action
from app.deadlines import service as deadlines
from app.handoffs.lifecycle import (
    EVENTS,
    EndReason,
    HandoffState,
    HandoffStep,
    IllegalHandoffStep,
    Stage,
    intake_stage,
    is_live,
    next_state,
)
from app.handoffs.models import Handoff
from app.http.problems import Problem, conflict, invalid, not_found
from app.intakes.events import HandoffData, HandoffEndedData
from app.intakes.lifecycle import Step, derive_status
from app.intakes.service import deadline_facts, load_bundle, programme_may_read
from app.intakes.workflow import Change, begin
from app.regions.config import RegionConfig
from app.routing.models import Programme
from app.vocab import EventType

# Reported moments may run a little ahead of the server's clock.
SKEW = timedelta(minutes=5)


def _consent_required() -> Problem:
    return Problem(
        409,
        "Consent required",
        "Offering this intake to a programme needs standing 'share_with_programme' consent.",
        "consent-required",
    )


async def offer(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    region: RegionConfig,
    *,
    programme: str | None = None,
    reason: str | None = None,
) -> Handoff:
    """Offer to `programme` (default: the decided one) next to any handoff already live; one
    live handoff per programme."""
    change, status = await begin(db, principal, intake_id, if_match, Step.OFFER)
    bundle = change.bundle
    intake = bundle.intake
    consent = bundle.decide(Action.HANDOFF)
    if not consent:
        raise _consent_required()
    code = programme or intake.decided_programme
    if code is None:
        raise conflict("Decide the programme first, or name the programme to offer to.", "illegal-transition")
    if programme is not None and programme != intake.decided_programme:
        entry = await db.scalar(select(Programme).where(Programme.region == intake.region, Programme.code == code))
        if entry is None:
            raise invalid([{"name": "programme", "reason": f"No programme '{code}' in this region."}])
        if code in intake.excluded_programmes:
            raise conflict(f"'{code}' declined this intake before; choose another programme.", "programme-excluded")
        if not entry.accepting_clients:
            raise conflict(f"'{code}' is not accepting clients at the moment.", "programme-full")
    if any(h.programme == code and is_live(h.status) for h in bundle.handoffs):
        raise conflict(f"A handoff to '{code}' is live already; one live handoff per programme.", "handoff-live")
    organisation = await db.scalar(
        select(Organisation)
        .join(Programme, Programme.organisation_code == Organisation.code)
        .where(Programme.region == intake.region, Programme.code == code)
    )
    if organisation is None:
        raise conflict("The programme has no organisation to offer to.", "programme-unavailable")
    now = clock.now()
    handoff = Handoff(
        id=uuid.uuid4(),
        intake_id=intake.id,
        programme=code,
        organisation_id=organisation.id,
        status=HandoffState.OFFERED,
        offered_at=now,
        offered_by=principal.client_id,
        offer_reason=reason.strip() if reason and reason.strip() else None,
        support_start_due_at=deadlines.support_start_due(now, deadline_facts(intake), region),
    )
    db.add(handoff)
    bundle.handoffs.append(handoff)
    await db.flush()
    status = derive_status(status, intake_stage(bundle.episode_handoffs))
    await change.commit(
        status,
        EventType.HANDOFF_OFFERED,
        data=HandoffData,
        extra={"handoff_id": handoff.id, "programme": code},
        basis=consent.basis,
        handoff=handoff,
    )
    return handoff


async def _handoff_for(db: AsyncSession, principal: Principal, handoff_id: uuid.UUID) -> tuple[Change, Handoff]:
    """The handoff if it was offered to the caller's organisation and is still live; else 404."""
    intake_id = await db.scalar(
        select(Handoff.intake_id).where(Handoff.id == handoff_id, Handoff.organisation_id == principal.organisation_id)
    )
    if intake_id is None:
        raise not_found("handoff")
    bundle = await load_bundle(db, intake_id, for_update=True)
    if bundle is None or bundle.intake.region != principal.region:
        raise not_found("handoff")
    handoff = next(h for h in bundle.handoffs if h.id == handoff_id)
    if not is_live(handoff.status) or not programme_may_read(bundle, principal.organisation_id):
        raise not_found("handoff")
    return Change(db, principal, bundle), handoff


async def read_handoff(db: AsyncSession, principal: Principal, handoff_id: uuid.UUID) -> Handoff:
    change, handoff = await _handoff_for(db, principal, handoff_id)
    await audit.record(db, principal, "read", [(change.intake.id, change.bundle.decide_basis_for_programme())])
    return handoff


def _moment(at: datetime | None, *, not_before: datetime | None, after_what: str) -> datetime:
    now = clock.now()
    if at is None:
        return now
    if at > now + SKEW:
        raise invalid([{"name": "at", "reason": "Not in the future."}])
    if not_before is not None and at < not_before - SKEW:
        raise invalid([{"name": "at", "reason": f"Not before {after_what}."}])
    return at


async def step(
    db: AsyncSession,
    principal: Principal,
    handoff_id: uuid.UUID,
    what: HandoffStep,
    *,
    at: datetime | None = None,
    reason: str | None = None,
    end_reason: EndReason | None = None,
    note: str | None = None,
) -> Handoff:
    """One step of the programme's own handoff. Illegal for its state: 409. A decline or an
    end touches no other handoff; the intake's status follows from all of them."""
    change, handoff = await _handoff_for(db, principal, handoff_id)
    try:
        state = next_state(handoff.status, what)
    except IllegalHandoffStep as exc:
        raise conflict(str(exc), "illegal-transition") from None
    # The basis of the programme's access, while it still has it (a decline or end ends it).
    basis = change.bundle.decide_basis_for_programme()
    intake = change.intake
    now = clock.now()
    notice: frozenset[uuid.UUID] = frozenset()
    data: type[HandoffData] = HandoffData
    extra: dict[str, object] = {"handoff_id": handoff.id, "programme": handoff.programme}
    if what is HandoffStep.ACCEPT:
        handoff.accepted_at = now
    elif what is HandoffStep.DECLINE:
        handoff.declined_at, handoff.decline_reason = now, reason
        intake.excluded_programmes = [*intake.excluded_programmes, handoff.programme]
        if intake.decided_programme == handoff.programme:
            intake.decided_programme = None
        notice = frozenset({handoff.organisation_id})  # it still hears that it declined
    elif what is HandoffStep.FIRST_CONTACT:
        handoff.first_contact_at = _moment(at, not_before=handoff.offered_at, after_what="the offer")
    elif what is HandoffStep.SUPPORT_STARTED:
        started = _moment(at, not_before=handoff.first_contact_at, after_what="the first contact")
        handoff.support_started_at = started
        # The intake's support-start deadline is met by the first start of any of its handoffs.
        deadlines.meet(change.bundle.deadlines, "support_start", started)
    elif what is HandoffStep.END:
        handoff.ended_at = _moment(at, not_before=handoff.support_started_at, after_what="support started")
        handoff.end_reason, handoff.end_note = end_reason, note
        data, extra["end_reason"] = HandoffEndedData, end_reason
        notice = frozenset({handoff.organisation_id})  # its read access ends with this
    else:  # pragma: no cover - revocation is the intake's (app.intakes.workflow.revoke_live_handoffs)
        raise ValueError(what)
    handoff.status = state
    stage = intake_stage(change.bundle.episode_handoffs)
    if stage is Stage.NONE:
        intake.decided_programme = None  # nothing live: back to the aanmeldpunt to route again
    await change.commit(
        derive_status(intake.status, stage),
        EVENTS[what],
        data=data,
        extra=extra,
        audience_extra=notice,
        basis=basis,
        handoff=handoff,
    )
    return handoff
