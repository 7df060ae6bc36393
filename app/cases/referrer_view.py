"""The referrer's view of its referrals: ONE response model for `POST /referrals`,
`GET /referrals/{id}` and `GET /referrals`, every field always present (`null` or empty
where there is nothing yet).

What the referrer may see is decided by the consent rule (`feedback_to_referrer`; the
meldcode never stands in for it): without it the view says `received`, `feedback: false` and
nothing else. A referral that staff merged into another case shows that case's progress
(status, programmes, contact person, dates, close reason) under that case's consents, with
its own id, reference and moment of receipt, so its referrer follows the woman's support
rather than reading `duplicate`.

Built in batches (one query per kind of record for a whole page), so a list costs the same
few queries as a single read. Here, in the case package above intakes, because the view
shows the case her referral became (a merged one's, its coordinator as contact person)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Organisation
from app.cases.models import CoordinatorAssignment
from app.consent.models import ConsentRecord
from app.consent.rules import Action, decide
from app.handoffs.models import Handoff
from app.handoffs.states import HandoffState
from app.http.schemas import OutModel, Page
from app.intakes.lifecycle import IntakeStatus
from app.intakes.models import Assessment, Contact, Intake
from app.routing.models import Programme
from app.vocab import CloseReason

# Handoffs the referrer hears of: every one that was not refused or taken back by the
# aanmeldpunt (those are routing attempts, not support she gets).
NOT_SHOWN_HANDOFF = frozenset({HandoffState.DECLINED, HandoffState.REVOKED})
# A merge of a merge: follow the chain this far (merges are rare; a loop cannot happen, the
# survivor is open when merged into, but a bound keeps a corrupt row from looping).
MAX_MERGE_HOPS = 5


class ReferralProgramme(OutModel):
    """A programme she was handed to, as its handoff stands."""

    name: str = Field(description="The programme's name (its code when the region no longer lists it).")
    status: HandoffState = Field(description="The handoff's status.")
    first_contact_at: datetime | None = None
    support_started_at: datetime | None = None


class ContactPerson(OutModel):
    """The case's coordinator: the one person to call about her (work contact details)."""

    name: str | None = None
    phone: str | None = None
    organisation: str | None = Field(default=None, description="The name of the coordinator's organisation.")


class ReferralDates(OutModel):
    """When each step happened; `null` until it has."""

    contacted_at: datetime | None = Field(default=None, description="The first contact in which she was reached.")
    assessed_at: datetime | None = Field(default=None, description="The first intake visit.")
    routed_at: datetime | None = Field(default=None, description="The staff decision for a programme.")
    handed_off_at: datetime | None = Field(default=None, description="The first offer to a programme.")
    first_contact_at: datetime | None = Field(default=None, description="A programme's first contact with her.")
    support_started_at: datetime | None = Field(default=None, description="The first start of support.")
    closed_at: datetime | None = None


class ReferralView(OutModel):
    """What the referring organisation sees of its referral. Beyond `received` only while
    `feedback_to_referrer` consent stands; never assessment details or personal data."""

    id: uuid.UUID
    reference: str
    received_at: datetime
    status: IntakeStatus = Field(description="`received` while the referrer gets no feedback.")
    feedback: bool = Field(description="False when the referrer's view is limited to 'received'.")
    programmes: list[ReferralProgramme] = Field(default_factory=list)
    contact_person: ContactPerson | None = Field(
        default=None, description="The case's coordinator (`null` while none is appointed)."
    )
    dates: ReferralDates = Field(default_factory=ReferralDates)
    close_reason: CloseReason | None = None


class ReferralPage(Page[ReferralView]):
    pass


@dataclass
class CaseProgress:
    """What one case's view is built from (the records of the case the referral follows)."""

    case: Intake
    consents: list[Any] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    contacted_at: datetime | None = None
    assessed_at: datetime | None = None
    contact_person: ContactPerson | None = None


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


def build(referral: Intake, progress: CaseProgress, programme_names: dict[str, str]) -> ReferralView:
    """The view of `referral`, following the case in `progress` (itself, or the case it was
    merged into). Pure: no I/O."""
    case = progress.case
    base: dict[str, Any] = {"id": referral.id, "reference": referral.reference, "received_at": referral.received_at}
    if not decide(progress.consents, Action.REFERRER_FEEDBACK, case.legal_basis):
        return ReferralView(**base, status=IntakeStatus.RECEIVED, feedback=False)
    shown = [h for h in progress.handoffs if h.status not in NOT_SHOWN_HANDOFF]

    def first(values: Sequence[datetime | None]) -> datetime | None:
        present = [v for v in values if v is not None]
        return min(present) if present else None

    decision = (case.routing or {}).get("decision") or {}
    return ReferralView(
        **base,
        status=IntakeStatus(case.status),
        feedback=True,
        programmes=[
            ReferralProgramme(
                name=programme_names.get(h.programme, h.programme),
                status=HandoffState(h.status),
                first_contact_at=h.first_contact_at,
                support_started_at=h.support_started_at,
            )
            for h in shown
        ],
        contact_person=progress.contact_person,
        dates=ReferralDates(
            contacted_at=progress.contacted_at,
            assessed_at=progress.assessed_at,
            routed_at=_moment(decision.get("decidedAt")),
            handed_off_at=first([h.offered_at for h in shown]),
            first_contact_at=first([h.first_contact_at for h in shown]),
            support_started_at=first([h.support_started_at for h in shown]),
            closed_at=case.closed_at,
        ),
        close_reason=CloseReason(case.close_reason) if case.close_reason else None,
    )


async def _cases_followed(db: AsyncSession, referrals: Sequence[Intake]) -> dict[uuid.UUID, Intake]:
    """For each referral, the case it follows: itself, or the open end of its merge chain."""
    known: dict[uuid.UUID, Intake] = {r.id: r for r in referrals}
    wanted = {r.merged_into for r in referrals if r.merged_into is not None} - set(known)
    for _ in range(MAX_MERGE_HOPS):
        if not wanted:
            break
        found = (await db.scalars(select(Intake).where(Intake.id.in_(wanted)))).all()
        known.update({i.id: i for i in found})
        wanted = {i.merged_into for i in found if i.merged_into is not None} - set(known)
    followed: dict[uuid.UUID, Intake] = {}
    for referral in referrals:
        case = referral
        for _ in range(MAX_MERGE_HOPS):
            if case.merged_into is None or case.merged_into not in known:
                break
            case = known[case.merged_into]
        followed[referral.id] = case
    return followed


async def referrer_views(db: AsyncSession, referrals: Sequence[Intake]) -> list[ReferralView]:
    """The views of these referrals, in their order, with a fixed number of queries."""
    if not referrals:
        return []
    followed = await _cases_followed(db, referrals)
    cases = {c.id: c for c in followed.values()}
    ids = list(cases)
    progress = {case_id: CaseProgress(case) for case_id, case in cases.items()}
    for consent in (
        await db.scalars(
            select(ConsentRecord).where(ConsentRecord.intake_id.in_(ids)).order_by(ConsentRecord.recorded_at)
        )
    ).all():
        progress[consent.intake_id].consents.append(consent)
    for handoff in (
        await db.scalars(select(Handoff).where(Handoff.intake_id.in_(ids)).order_by(Handoff.offered_at))
    ).all():
        progress[handoff.intake_id].handoffs.append(handoff)
    contacts = await db.execute(
        select(Contact.intake_id, func.min(Contact.at))
        .where(Contact.intake_id.in_(ids), Contact.reached.is_(True))
        .group_by(Contact.intake_id)
    )
    for intake_id, at in contacts.all():
        progress[intake_id].contacted_at = at
    assessments = await db.execute(
        select(Assessment.intake_id, func.min(Assessment.visited_at))
        .where(Assessment.intake_id.in_(ids))
        .group_by(Assessment.intake_id)
    )
    for intake_id, at in assessments.all():
        progress[intake_id].assessed_at = at
    coordinators = await db.execute(
        select(
            CoordinatorAssignment.intake_id, CoordinatorAssignment.name, CoordinatorAssignment.phone, Organisation.name
        )
        .outerjoin(Organisation, Organisation.code == CoordinatorAssignment.organisation)
        .where(CoordinatorAssignment.intake_id.in_(ids), CoordinatorAssignment.until.is_(None))
    )
    for intake_id, name, phone, organisation in coordinators.all():
        progress[intake_id].contact_person = ContactPerson(name=name, phone=phone, organisation=organisation)
    codes = {h.programme for p in progress.values() for h in p.handoffs}
    names: dict[str, str] = {}
    if codes:
        regions = {c.region for c in cases.values()}
        rows = await db.execute(
            select(Programme.code, Programme.name).where(Programme.region.in_(regions), Programme.code.in_(codes))
        )
        names = {code: name for code, name in rows.all()}
    return [build(r, progress[followed[r.id].id], names) for r in referrals]


async def referrer_view(db: AsyncSession, referral: Intake) -> ReferralView:
    return (await referrer_views(db, [referral]))[0]
