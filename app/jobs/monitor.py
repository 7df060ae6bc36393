"""The deadline monitor: emits `deadline.approaching` and `deadline.breached` exactly once per
deadline, and `agreement.overdue` once per case-meeting agreement past its date, however many
workers run. Rows are claimed with FOR UPDATE SKIP LOCKED through
partial indexes on what is due, so a tick costs what is due, not how many intakes exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.cases.models import Agreement
from app.deadlines.models import Deadline
from app.intakes import service as intakes
from app.intakes.events import AgreementOverdueData, DeadlineEventData
from app.vocab import EventType
from app.webhooks.outbox import emit

BATCH = 200


@dataclass
class TickResult:
    approaching: int = 0
    breached: int = 0
    agreements_overdue: int = 0


async def _claim(db: AsyncSession, *, breach: bool, now: datetime) -> list[Deadline]:
    if breach:
        where = [Deadline.due_at < now, Deadline.breached_emitted_at.is_(None)]
    else:
        where = [Deadline.approaching_at <= now, Deadline.approaching_emitted_at.is_(None)]
    query = (
        select(Deadline)
        .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), *where)
        .order_by(Deadline.due_at if breach else Deadline.approaching_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    return list((await db.scalars(query)).all())


async def tick(db: AsyncSession, now: datetime) -> TickResult:
    """One pass; the caller commits. Emission and marking happen in one transaction."""
    result = TickResult()
    for breach in (False, True):
        for deadline in await _claim(db, breach=breach, now=now):
            bundle = await intakes.load_bundle(db, deadline.intake_id)
            if bundle is None or bundle.intake.closed_at is not None:
                deadline.cancelled_at = now
                continue
            event = EventType.DEADLINE_BREACHED if breach else EventType.DEADLINE_APPROACHING
            if breach:
                deadline.breached_emitted_at = now
                deadline.approaching_emitted_at = deadline.approaching_emitted_at or now
                result.breached += 1
            else:
                deadline.approaching_emitted_at = now
                result.approaching += 1
            data = intakes.thin_data(bundle, DeadlineEventData, phase=deadline.phase, due_at=deadline.due_at)
            await emit(
                db,
                event,
                data,
                intake_id=bundle.intake.id,
                region=bundle.intake.region,
                audience=bundle.audience(),
                at=now,
            )
    result.agreements_overdue = await _agreements(db, now)
    await db.flush()
    return result


async def _agreements(db: AsyncSession, now: datetime) -> int:
    """Open agreements whose due date (Europe/Amsterdam) has passed, each emitted once: the row
    is claimed under SKIP LOCKED and marked in the transaction that writes its event."""
    today = now.astimezone(clock.AMSTERDAM).date()
    query = (
        select(Agreement)
        .where(
            Agreement.done_at.is_(None),
            Agreement.cancelled_at.is_(None),
            Agreement.overdue_emitted_at.is_(None),
            Agreement.due_date < today,
        )
        .order_by(Agreement.due_date)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    emitted = 0
    for agreement in (await db.scalars(query)).all():
        bundle = await intakes.load_bundle(db, agreement.intake_id)
        if bundle is None or bundle.intake.closed_at is not None:
            agreement.cancelled_at = now
            continue
        agreement.overdue_emitted_at = now
        emitted += 1
        data = intakes.thin_data(bundle, AgreementOverdueData, agreement_id=agreement.id, due_date=agreement.due_date)
        await emit(
            db,
            EventType.AGREEMENT_OVERDUE,
            data,
            intake_id=bundle.intake.id,
            region=bundle.intake.region,
            audience=bundle.audience(),
            at=now,
        )
    return emitted
