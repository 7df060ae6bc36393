"""The case's actions and reads. Each action locks the intake, checks `If-Match`, refuses a
closed case (409), and writes its records, audit row and outbox event in the request's one
transaction (app.intakes.workflow.Change); the HTTP layer (api.py) only parses and presents."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.auth.models import Organisation
from app.auth.principal import Principal
from app.cases import rules
from app.cases.models import (
    Agreement,
    CaseMeeting,
    CaseNote,
    CoordinatorAssignment,
    FactCorrection,
    Involvement,
    RecordedBy,
)
from app.cases.schemas import (
    ActorOut,
    AgreementDoneIn,
    CaseMeetingIn,
    CaseMeetingOut,
    CoordinatorIn,
    InvolvementIn,
    InvolvementOut,
    NoteOut,
    ParticipantIn,
    ParticipantOut,
)
from app.cases.vocab import InvolvementSource
from app.http.problems import conflict, invalid, not_found
from app.http.problems import not_in_future as _not_future
from app.intakes.events import AgreementData, CaseMeetingData, CoordinatorChangedData, InvolvementData, NoteData
from app.intakes.models import Intake
from app.intakes.schemas import AgreementOut, CoordinatorOut
from app.intakes.service import IntakeBundle, visible_bundle
from app.intakes.workflow import Change, check_if_match
from app.routing.models import Programme
from app.vocab import EventType, InvolvementRole


async def open_case(db: AsyncSession, principal: Principal, intake_id: uuid.UUID, if_match: str | None) -> Change:
    """The intake locked for a change by this caller (the route decided who may act): 404 if
    it may not see it, 412 on a stale `If-Match`, 409 when the case is closed."""
    bundle = await visible_bundle(db, principal, intake_id, for_update=True)
    check_if_match(bundle.intake, if_match)
    if bundle.intake.closed_at is not None:
        raise conflict("The case is closed.", "illegal-transition")
    return Change(db, principal, bundle)


def _basis(change: Change) -> str:
    return change.bundle.access_basis() if change.principal.is_staff else change.bundle.decide_basis_for_programme()


def recorded_by(principal: Principal) -> dict[str, str | None]:
    """The `RecordedBy` columns of a row the caller records."""
    return {
        "recorded_by_client": principal.client_id,
        "recorded_by_organisation": principal.organisation_code,
        "recorded_by_user": principal.user,
    }


def actor_out(row: RecordedBy) -> ActorOut:
    actor = row.recorder()
    return ActorOut(organisation=actor.organisation, client=actor.client, user=actor.user)


# --- coordinator -----------------------------------------------------------------------


async def current_coordinator(db: AsyncSession, intake_id: uuid.UUID) -> CoordinatorAssignment | None:
    return await db.scalar(
        select(CoordinatorAssignment).where(
            CoordinatorAssignment.intake_id == intake_id, CoordinatorAssignment.until.is_(None)
        )
    )


def coordinator_out(row: CoordinatorAssignment | None) -> CoordinatorOut | None:
    if row is None:
        return None
    return CoordinatorOut(
        name=row.name,
        phone=row.phone,
        email=row.email,
        user_id=row.user_id,
        organisation=row.organisation,
        since=row.since,
    )


async def set_coordinator(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID, if_match: str | None, body: CoordinatorIn
) -> tuple[IntakeBundle, CoordinatorAssignment]:
    change = await open_case(db, principal, intake_id, if_match)
    own = [h.status for h in change.bundle.handoffs if h.organisation_id == principal.organisation_id]
    right = rules.coordinator_right(principal.is_staff, own)
    if right is rules.CoordinatorRight.NOT_ACCEPTED:
        raise conflict("Accept the handoff before taking over coordination.", "illegal-transition")
    now = clock.now()
    current = await current_coordinator(db, intake_id)
    if current is not None:
        current.until = now
        await db.flush()  # the one-current index sees the old row end before the new one starts
    row = CoordinatorAssignment(
        id=uuid.uuid4(),
        intake_id=intake_id,
        name=body.name,
        phone=body.phone,
        email=str(body.email) if body.email else None,
        user_id=body.user_id,
        organisation=principal.organisation_code,
        since=now,
        **recorded_by(principal),
    )
    db.add(row)
    await db.flush()
    bundle = await change.commit(
        None,
        EventType.INTAKE_COORDINATOR_CHANGED,
        data=CoordinatorChangedData,
        extra={
            "coordinator_organisation": principal.organisation_code,
            "take_over": right is rules.CoordinatorRight.TAKE_OVER,
        },
        basis=_basis(change),
    )
    return bundle, row


# --- involvements ----------------------------------------------------------------------


async def _organisations(db: AsyncSession, region: str, codes: set[str]) -> dict[str, Organisation]:
    if not codes:
        return {}
    rows = await db.scalars(select(Organisation).where(Organisation.region == region, Organisation.code.in_(codes)))
    return {o.code: o for o in rows.all()}


async def resolve_participants(
    db: AsyncSession, region: str, participants: Sequence[ParticipantIn], field: str
) -> dict[str, Organisation]:
    """Known organisations named by code, in the caller's region; 400 naming each unknown one."""
    known = await _organisations(db, region, {p.organisation for p in participants if p.organisation})
    problems = [
        {"name": f"{field}[{i}].organisation", "reason": "No organisation with this code."}
        for i, p in enumerate(participants)
        if p.organisation and p.organisation not in known
    ]
    if problems:
        raise invalid(problems)
    return known


def _involvement_row(
    principal: Principal,
    intake_id: uuid.UUID,
    p: ParticipantIn,
    known: dict[str, Organisation],
    source: InvolvementSource,
    since: datetime,
    *,
    phone: str | None = None,
    email: str | None = None,
) -> Involvement:
    return Involvement(
        id=uuid.uuid4(),
        intake_id=intake_id,
        role=p.role.value,
        source=source.value,
        organisation=p.organisation,
        organisation_name=known[p.organisation].name if p.organisation else p.organisation_name,
        professional_name=p.professional_name,
        phone=phone,
        email=email,
        since=since,
        recorded_at=clock.now(),
        **recorded_by(principal),
    )


async def add_participants(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    participants: Sequence[ParticipantIn],
    known: dict[str, Organisation],
    at: datetime,
) -> None:
    """A joint intake's participants become involvements (in the assessment's transaction)."""
    for p in participants:
        db.add(_involvement_row(principal, intake_id, p, known, InvolvementSource.ASSESSMENT, at))
    await db.flush()


async def add_involvement(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID, if_match: str | None, body: InvolvementIn
) -> tuple[IntakeBundle, Involvement]:
    change = await open_case(db, principal, intake_id, if_match)
    known = await resolve_participants(db, change.intake.region, [body], "body")
    since = body.since or clock.now()
    _not_future(since, "since")
    row = _involvement_row(
        principal,
        intake_id,
        body,
        known,
        InvolvementSource.STAFF,
        since,
        phone=body.phone,
        email=str(body.email) if body.email else None,
    )
    db.add(row)
    await db.flush()
    bundle = await change.commit(
        None,
        EventType.INTAKE_INVOLVEMENT_ADDED,
        data=InvolvementData,
        extra={"involvement_id": row.id, "role": row.role},
        basis=_basis(change),
    )
    return bundle, row


async def end_involvement(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    involvement_id: uuid.UUID,
    if_match: str | None,
    until: datetime,
) -> tuple[IntakeBundle, rules.InvolvementItem]:
    change = await open_case(db, principal, intake_id, if_match)
    _not_future(until, "until")
    row = await db.scalar(
        select(Involvement)
        .where(Involvement.id == involvement_id, Involvement.intake_id == intake_id)
        .with_for_update()
    )
    if row is None:
        derived = {i.id for i in await derived_involvements(db, change.bundle)}
        if involvement_id in derived:
            raise conflict(
                "This involvement follows from the referral or a handoff and ends with it.", "illegal-transition"
            )
        raise not_found("involvement")
    if not rules.involvement_may_end(InvolvementSource(row.source), row.until):
        raise conflict("This involvement has ended already.", "illegal-transition")
    if until < row.since:
        raise invalid([{"name": "until", "reason": "Not before the involvement began."}])
    row.until = until
    row.ended_at = clock.now()
    row.ended_by_client, row.ended_by_organisation, row.ended_by_user = (
        principal.client_id,
        principal.organisation_code,
        principal.user,
    )
    await db.flush()
    bundle = await change.commit(
        None,
        EventType.INTAKE_INVOLVEMENT_ENDED,
        data=InvolvementData,
        extra={"involvement_id": row.id, "role": row.role},
        basis=_basis(change),
    )
    return bundle, recorded_item(row)


def recorded_item(row: Involvement) -> rules.InvolvementItem:
    return rules.InvolvementItem(
        id=row.id,
        role=InvolvementRole(row.role),
        source=InvolvementSource(row.source),
        organisation=row.organisation,
        organisation_name=row.organisation_name,
        professional_name=row.professional_name,
        phone=row.phone,
        email=row.email,
        since=row.since,
        until=row.until,
    )


def involvement_out(item: rules.InvolvementItem) -> InvolvementOut:
    return InvolvementOut(
        id=item.id,
        role=item.role,
        organisation=item.organisation,
        organisation_name=item.organisation_name,
        professional_name=item.professional_name,
        phone=item.phone,
        email=item.email,
        since=item.since,
        until=item.until,
        source=item.source,
    )


async def referral_facts(db: AsyncSession, intake: Intake) -> list[rules.ReferrerFacts]:
    """This case's referral and every referral merged into it, with the referrer organisation."""
    rows = (
        await db.execute(
            select(Intake.id, Intake.received_at, Intake.referrer, Organisation.code, Organisation.name)
            .outerjoin(Organisation, Organisation.id == Intake.referrer_organisation_id)
            .where((Intake.id == intake.id) | (Intake.merged_into == intake.id))
            .order_by(Intake.received_at)
        )
    ).all()
    return [
        rules.ReferrerFacts(
            intake_id=r[0],
            received_at=r[1],
            referrer=r[2],
            organisation=r[3],
            organisation_name=r[4],
            until=intake.closed_at,
        )
        for r in rows
    ]


async def handoff_facts(db: AsyncSession, bundle: IntakeBundle) -> list[rules.HandoffFacts]:
    orgs = await _organisations_by_id(db, {h.organisation_id for h in bundle.handoffs})
    names = dict(
        (await db.execute(select(Programme.code, Programme.name).where(Programme.region == bundle.intake.region))).all()
    )
    facts = []
    for h in bundle.handoffs:
        org = orgs.get(h.organisation_id)
        ended = h.ended_at or h.declined_at or h.revoked_at
        facts.append(
            rules.HandoffFacts(
                id=h.id,
                programme=h.programme,
                programme_name=names.get(h.programme, h.programme),
                organisation=org.code if org else "",
                organisation_kind=org.kind if org else "programme",
                status=h.status,
                offered_at=h.offered_at,
                support_started_at=h.support_started_at,
                ended_at=ended,
            )
        )
    return facts


async def _organisations_by_id(db: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
    if not ids:
        return {}
    rows = await db.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    return {o.id: o for o in rows.all()}


async def derived_involvements(db: AsyncSession, bundle: IntakeBundle) -> list[rules.InvolvementItem]:
    return rules.derive_involvements(await referral_facts(db, bundle.intake), await handoff_facts(db, bundle))


async def involvements(db: AsyncSession, bundle: IntakeBundle) -> list[rules.InvolvementItem]:
    """Derived and recorded, oldest first."""
    recorded = (await db.scalars(select(Involvement).where(Involvement.intake_id == bundle.intake.id))).all()
    items = [*await derived_involvements(db, bundle), *(recorded_item(r) for r in recorded)]
    return sorted(items, key=lambda i: (i.since, str(i.id)))


async def read_involvements(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID
) -> list[rules.InvolvementItem]:
    """Staff, or an organisation with a live handoff under sharing consent; 404 for anyone else.
    One access-log row."""
    bundle = await visible_bundle(db, principal, intake_id)
    items = await involvements(db, bundle)
    basis = bundle.access_basis() if principal.is_staff else bundle.decide_basis_for_programme()
    await audit.record(db, principal, "read", [(intake_id, basis)])
    return items


# --- case meetings and agreements ---------------------------------------------------------


def agreement_out(a: Agreement) -> AgreementOut:
    return AgreementOut(
        id=a.id, meeting_id=a.meeting_id, what=a.what, owner=a.owner, due_date=a.due_date, done_at=a.done_at
    )


def meeting_out(m: CaseMeeting, agreements: Sequence[Agreement]) -> CaseMeetingOut:
    return CaseMeetingOut(
        id=m.id,
        at=m.at,
        participants=[ParticipantOut.model_validate(p) for p in m.participants],
        summary=m.summary,
        agreements=[agreement_out(a) for a in agreements],
        recorded_at=m.recorded_at,
        recorded_by=actor_out(m),
    )


async def record_meeting(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID, if_match: str | None, body: CaseMeetingIn
) -> tuple[IntakeBundle, CaseMeetingOut]:
    change = await open_case(db, principal, intake_id, if_match)
    _not_future(body.at, "at")
    known = await resolve_participants(db, change.intake.region, body.participants, "participants")
    meeting_day = body.at.astimezone(clock.AMSTERDAM).date()
    early = [
        {"name": f"agreements[{i}].dueDate", "reason": "Not before the meeting."}
        for i, a in enumerate(body.agreements)
        if a.due_date < meeting_day
    ]
    if early:
        raise invalid(early)
    now = clock.now()
    meeting = CaseMeeting(
        id=uuid.uuid4(),
        intake_id=intake_id,
        at=body.at,
        participants=[
            ParticipantOut(
                role=p.role,
                organisation=p.organisation,
                organisation_name=known[p.organisation].name if p.organisation else p.organisation_name,
                professional_name=p.professional_name,
            ).model_dump(mode="json", by_alias=True)
            for p in body.participants
        ],
        summary=body.summary,
        recorded_at=now,
        **recorded_by(principal),
    )
    db.add(meeting)
    await db.flush()
    agreements = [
        Agreement(
            id=uuid.uuid4(),
            intake_id=intake_id,
            meeting_id=meeting.id,
            position=i,
            what=a.what,
            owner=a.owner,
            due_date=a.due_date,
        )
        for i, a in enumerate(body.agreements)
    ]
    db.add_all(agreements)
    await db.flush()
    bundle = await change.commit(
        None,
        EventType.INTAKE_CASE_MEETING_RECORDED,
        data=CaseMeetingData,
        extra={"case_meeting_id": meeting.id, "agreements": len(agreements)},
        basis=_basis(change),
    )
    return bundle, meeting_out(meeting, agreements)


async def read_meetings(db: AsyncSession, principal: Principal, intake_id: uuid.UUID) -> list[CaseMeetingOut]:
    bundle = await visible_bundle(db, principal, intake_id)
    meetings = (
        await db.scalars(
            select(CaseMeeting).where(CaseMeeting.intake_id == intake_id).order_by(CaseMeeting.at, CaseMeeting.id)
        )
    ).all()
    agreements = await agreements_of(db, intake_id)
    await audit.record(db, principal, "read", [(intake_id, bundle.access_basis())])
    return [meeting_out(m, [a for a in agreements if a.meeting_id == m.id]) for m in meetings]


async def agreements_of(db: AsyncSession, intake_id: uuid.UUID) -> list[Agreement]:
    return list(
        (
            await db.scalars(
                select(Agreement)
                .join(CaseMeeting, CaseMeeting.id == Agreement.meeting_id)
                .where(Agreement.intake_id == intake_id)
                .order_by(CaseMeeting.at, Agreement.position)
            )
        ).all()
    )


async def agreement_done(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    agreement_id: uuid.UUID,
    if_match: str | None,
    body: AgreementDoneIn,
) -> tuple[IntakeBundle, Agreement]:
    change = await open_case(db, principal, intake_id, if_match)
    _not_future(body.at, "at")
    row = await db.scalar(
        select(Agreement).where(Agreement.id == agreement_id, Agreement.intake_id == intake_id).with_for_update()
    )
    if row is None:
        raise not_found("agreement")
    if row.done_at is not None:
        raise conflict("This agreement is done already.", "illegal-transition")
    row.done_at = body.at
    row.done_note = body.note
    row.done_by_client, row.done_by_organisation, row.done_by_user = (
        principal.client_id,
        principal.organisation_code,
        principal.user,
    )
    await db.flush()
    bundle = await change.commit(
        None, EventType.AGREEMENT_DONE, data=AgreementData, extra={"agreement_id": row.id}, basis=_basis(change)
    )
    return bundle, row


# --- notes ----------------------------------------------------------------------------------


async def add_note(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID, if_match: str | None, text: str
) -> tuple[IntakeBundle, NoteOut]:
    change = await open_case(db, principal, intake_id, if_match)
    row = CaseNote(
        id=uuid.uuid4(),
        intake_id=intake_id,
        text=text,
        recorded_at=clock.now(),
        **recorded_by(principal),
    )
    db.add(row)
    await db.flush()
    bundle = await change.commit(
        None, EventType.INTAKE_NOTE_ADDED, data=NoteData, extra={"note_id": row.id}, basis=_basis(change)
    )
    out = NoteOut(
        id=row.id,
        text=row.text,
        recorded_at=row.recorded_at,
        recorded_by=actor_out(row),
    )
    return bundle, out


# --- what the intake shows -------------------------------------------------------------------


async def intake_extras(db: AsyncSession, intake_id: uuid.UUID) -> tuple[CoordinatorOut | None, list[AgreementOut]]:
    """The coordinator and the agreements, for the staff view of the intake."""
    coordinator = coordinator_out(await current_coordinator(db, intake_id))
    agreements = [agreement_out(a) for a in await agreements_of(db, intake_id) if a.cancelled_at is None]
    return coordinator, agreements


async def record_fact_correction(
    db: AsyncSession, principal: Principal, bundle: IntakeBundle, fields: Sequence[str], reason: str | None
) -> None:
    """In the correction's transaction (app.intakes.workflow.correct_facts wrote its audit row)."""
    db.add(
        FactCorrection(
            id=uuid.uuid4(),
            intake_id=bundle.intake.id,
            at=clock.now(),
            fields=list(fields),
            safety_concern=bundle.intake.safety_concern,
            reason=reason,
            **recorded_by(principal),
        )
    )
    await db.flush()
