"""Keeping `intake_facts` in step with the intake: written at receipt, rewritten in the same
transaction as every change (called from the one place every change commits through)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.consent.rules import Action, decide
from app.deadlines.calendar import WorkingDayCalendar
from app.intakes.models import Assessment, Contact
from app.regions.config import load_region
from app.statistics.facts import DeadlineFact, Facts, HandoffFact, Snapshot, derive
from app.statistics.models import IntakeFacts

if TYPE_CHECKING:
    from app.intakes.service import IntakeBundle

FACT_COLUMNS = tuple(c.key for c in IntakeFacts.__table__.columns if c.key != "intake_id")


def calendar_of(region: str) -> WorkingDayCalendar:
    """The region's working-day calendar (statutory holidays plus its closure days)."""
    try:
        return WorkingDayCalendar(load_region(region).closure_days)
    except LookupError:
        return WorkingDayCalendar()


def snapshot(bundle: IntakeBundle, activity: tuple[int, bool, bool, bool] = (0, False, False, False)) -> Snapshot:
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


def at_receipt(bundle: IntakeBundle) -> IntakeFacts:
    """The facts row of a new intake (inserted with it)."""
    facts = derive(None, snapshot(bundle), calendar_of(bundle.intake.region))
    return IntakeFacts(intake_id=bundle.intake.id, **facts.columns())


async def load(db: AsyncSession, intake_id: uuid.UUID) -> Facts | None:
    row = await db.scalar(select(IntakeFacts).where(IntakeFacts.intake_id == intake_id))
    if row is None:
        return None
    return Facts(**{key: getattr(row, key) for key in FACT_COLUMNS})


async def _activity(db: AsyncSession, intake_id: uuid.UUID) -> tuple[int, bool, bool, bool]:
    """Contact attempts, reached, assessed, assessed at home: one round trip."""
    contacts = select(Contact.reached).where(Contact.intake_id == intake_id)
    assessments = select(Assessment.location).where(Assessment.intake_id == intake_id)
    row = (
        await db.execute(
            select(
                select(func.count()).select_from(contacts.subquery()).scalar_subquery(),
                contacts.where(Contact.reached).exists(),
                assessments.exists(),
                assessments.where(Assessment.location == "home").exists(),
            )
        )
    ).one()
    return int(row[0]), bool(row[1]), bool(row[2]), bool(row[3])


async def save(db: AsyncSession, intake_id: uuid.UUID, facts: Facts) -> None:
    values: dict[str, Any] = {"intake_id": intake_id, **facts.columns()}
    statement = insert(IntakeFacts).values(values)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[IntakeFacts.intake_id], set_={key: statement.excluded[key] for key in FACT_COLUMNS}
        )
    )


async def refresh(db: AsyncSession, bundle: IntakeBundle) -> Facts:
    """Rewrite the facts from the intake as it is now (the caller holds its row lock)."""
    intake = bundle.intake
    previous = await load(db, intake.id)
    if previous is not None and previous.erased:
        return previous
    facts = derive(previous, snapshot(bundle, await _activity(db, intake.id)), calendar_of(intake.region))
    await save(db, intake.id, facts)
    return facts
