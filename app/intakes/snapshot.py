"""What the intakes capability tells statistics of an intake: its coded snapshot
(app.statistics.facts.Snapshot). Built here, above statistics, so that statistics never read
an intake's tables; app.statistics.service derives the facts from it and stores them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.consent.models import ConsentRecord
from app.consent.rules import Action, decide
from app.deadlines.models import Deadline
from app.handoffs.models import Handoff
from app.intakes.models import Assessment, Contact, Intake
from app.intakes.vocab import AssessmentLocation
from app.statistics import service as statistics
from app.statistics.facts import DeadlineFact, Facts, HandoffFact, Snapshot
from app.statistics.models import IntakeFacts


class IntakeBundle(Protocol):
    """What a snapshot reads of an intake: app.intakes.service.IntakeBundle (named by its
    parts so that the service, which writes the facts at receipt, can import this module)."""

    @property
    def intake(self) -> Intake: ...
    @property
    def consents(self) -> Sequence[ConsentRecord]: ...
    @property
    def deadlines(self) -> Sequence[Deadline]: ...
    @property
    def handoffs(self) -> Sequence[Handoff]: ...


Activity = tuple[int, bool, bool, bool]
"""Contact attempts, reached, assessed, assessed at home."""


def snapshot(bundle: IntakeBundle, activity: Activity = (0, False, False, False)) -> Snapshot:
    intake = bundle.intake
    attempts, contacted, assessed, at_home = activity
    referrer = intake.referrer or {}
    pregnancy = intake.pregnancy or {}
    due = pregnancy.get("dueDate")
    routing = intake.routing or {}
    recommendation = routing.get("recommendation") or {}
    return Snapshot(
        region=intake.region,
        received_at=intake.received_at,
        source=intake.source,
        referrer_role=referrer.get("role"),
        birth_date=intake.birth_date,
        pregnant=bool(pregnancy.get("pregnant")),
        due_date=date.fromisoformat(due) if due else None,
        first_child=pregnancy.get("firstChild"),
        concerns=tuple((c["code"], c["source"]) for c in intake.concerns),
        safety_concern=intake.safety_concern,
        vulnerability=intake.vulnerability,
        status=intake.status,
        close_reason=intake.close_reason,
        contact_attempts=attempts,
        contacted=contacted,
        assessed=assessed,
        assessed_at_home=at_home,
        recommended=recommendation.get("programme"),
        decided=intake.decided_programme,
        handoffs=tuple(
            HandoffFact(
                programme=h.programme,
                accepted=h.accepted_at is not None,
                declined=h.declined_at is not None,
                started=h.support_started_at is not None,
            )
            for h in bundle.handoffs
        ),
        deadlines=tuple(DeadlineFact(d.phase, d.due_at, d.met_at, d.cancelled_at) for d in bundle.deadlines),
        research_consent=bool(decide(bundle.consents, Action.EXPORT_RESEARCH, intake.legal_basis)),
    )


async def activity(db: AsyncSession, intake_id: uuid.UUID) -> Activity:
    """Contact attempts, reached, assessed, assessed at home: one round trip."""
    contacts = select(Contact.reached).where(Contact.intake_id == intake_id)
    assessments = select(Assessment.location).where(Assessment.intake_id == intake_id)
    row = (
        await db.execute(
            select(
                select(func.count()).select_from(contacts.subquery()).scalar_subquery(),
                contacts.where(Contact.reached).exists(),
                assessments.exists(),
                assessments.where(Assessment.location == AssessmentLocation.HOME).exists(),
            )
        )
    ).one()
    return int(row[0]), bool(row[1]), bool(row[2]), bool(row[3])


def facts_at_receipt(bundle: IntakeBundle) -> IntakeFacts:
    """The facts row of a new intake (inserted with it)."""
    return statistics.at_receipt(bundle.intake.id, snapshot(bundle))


async def refresh_facts(db: AsyncSession, bundle: IntakeBundle) -> Facts:
    """Rewrite the intake's facts from the intake as it is now (the caller holds its row lock)."""
    intake_id = bundle.intake.id
    return await statistics.refresh(db, intake_id, snapshot(bundle, await activity(db, intake_id)))
