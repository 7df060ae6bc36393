"""Deadlines stored on an intake: created at receipt, met by actions, recomputed on new facts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.deadlines.calendar import WorkingDayCalendar
from app.deadlines.models import Deadline
from app.deadlines.policy import DeadlinePhase, DeadlineState, Facts, compute
from app.http.problems import invalid
from app.regions.config import RegionConfig


def calendar_for(region: RegionConfig) -> WorkingDayCalendar:
    return WorkingDayCalendar(region.closure_days)


def state_of(deadline: Deadline, now: datetime) -> DeadlineState:
    if deadline.met_at is not None:
        return DeadlineState.MET
    if deadline.due_at < now:
        return DeadlineState.BREACHED
    return DeadlineState.OPEN


def next_due(deadlines: list[Deadline]) -> datetime | None:
    open_ones = [d.due_at for d in deadlines if d.met_at is None and d.cancelled_at is None]
    return min(open_ones) if open_ones else None


def create(intake_id: uuid.UUID, received_at: datetime, facts: Facts, region: RegionConfig) -> list[Deadline]:
    return [
        Deadline(
            id=uuid.uuid4(),
            intake_id=intake_id,
            phase=due.phase,
            due_at=due.due_at,
            approaching_at=due.approaching_at,
            policy_version=region.policy_version,
        )
        for due in compute(received_at, facts, region.deadlines, calendar_for(region))
    ]


def support_start_due(offered_at: datetime, facts: Facts, region: RegionConfig) -> datetime:
    """A handoff's own support-start moment: the region's `support_start` working days (the
    policy in force at the offer), counted from the offer as the intake's are from receipt."""
    policy = region.at(offered_at)
    due = compute(offered_at, facts, policy.deadlines, calendar_for(policy))
    return next(d.due_at for d in due if d.phase == DeadlinePhase.SUPPORT_START)


async def load(db: AsyncSession, intake_id: uuid.UUID) -> list[Deadline]:
    rows = await db.scalars(select(Deadline).where(Deadline.intake_id == intake_id).order_by(Deadline.due_at))
    return list(rows.all())


def meet(deadlines: list[Deadline], phase: str, at: datetime) -> bool:
    """Mark the phase met (once); True when this call met it."""
    for deadline in deadlines:
        if deadline.phase == phase and deadline.met_at is None and deadline.cancelled_at is None:
            deadline.met_at = at
            return True
    return False


def recompute(
    deadlines: list[Deadline],
    received_at: datetime,
    facts: Facts,
    region: RegionConfig,
    loosen_reason: str | None,
) -> None:
    """New facts change the open deadlines. Tightening is always allowed; a later due moment
    needs a staff reason, which is recorded."""
    fresh = {d.phase: d for d in compute(received_at, facts, region.deadlines, calendar_for(region))}
    for deadline in deadlines:
        if deadline.met_at is not None or deadline.cancelled_at is not None:
            continue
        due = fresh[deadline.phase]
        if due.due_at > deadline.due_at:
            if not loosen_reason:
                raise invalid(
                    [{"name": "reason", "reason": f"Moving the {deadline.phase} deadline later needs a reason."}]
                )
            deadline.loosened_reason = loosen_reason
        deadline.policy_version = region.policy_version
        if due.due_at != deadline.due_at:
            deadline.due_at = due.due_at
            deadline.approaching_at = due.approaching_at
            deadline.approaching_emitted_at = None
            deadline.breached_emitted_at = None
