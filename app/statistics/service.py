"""Keeping `intake_facts` in step with the intake: written at receipt, rewritten in the same
transaction as every change (called from the one place every change commits through). The
intake comes as its coded snapshot (built by app.intakes.snapshot): statistics read no
intake table."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.deadlines.calendar import WorkingDayCalendar
from app.regions.config import load_region
from app.statistics.facts import Facts, Snapshot, derive
from app.statistics.models import IntakeFacts

FACT_COLUMNS = tuple(c.key for c in IntakeFacts.__table__.columns if c.key != "intake_id")


def calendar_of(region: str) -> WorkingDayCalendar:
    """The region's working-day calendar (statutory holidays plus its closure days)."""
    try:
        return WorkingDayCalendar(load_region(region).closure_days)
    except LookupError:
        return WorkingDayCalendar()


def at_receipt(intake_id: uuid.UUID, snapshot: Snapshot) -> IntakeFacts:
    """The facts row of a new intake (inserted with it)."""
    facts = derive(None, snapshot, calendar_of(snapshot.region))
    return IntakeFacts(intake_id=intake_id, **facts.columns())


async def load(db: AsyncSession, intake_id: uuid.UUID) -> Facts | None:
    row = await db.scalar(select(IntakeFacts).where(IntakeFacts.intake_id == intake_id))
    if row is None:
        return None
    return Facts(**{key: getattr(row, key) for key in FACT_COLUMNS})


async def save(db: AsyncSession, intake_id: uuid.UUID, facts: Facts) -> None:
    values: dict[str, Any] = {"intake_id": intake_id, **facts.columns()}
    statement = insert(IntakeFacts).values(values)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=[IntakeFacts.intake_id], set_={key: statement.excluded[key] for key in FACT_COLUMNS}
        )
    )


async def refresh(db: AsyncSession, intake_id: uuid.UUID, snapshot: Snapshot) -> Facts:
    """Rewrite the facts from the intake as it is now (the caller holds its row lock); an
    erased intake's facts stay as erasure left them."""
    previous = await load(db, intake_id)
    if previous is not None and previous.erased:
        return previous
    facts = derive(previous, snapshot, calendar_of(snapshot.region))
    await save(db, intake_id, facts)
    return facts
