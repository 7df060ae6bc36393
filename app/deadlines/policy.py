"""Deadline policy, pure: (received_at, facts, region policy, calendar) -> due moments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

from app.clock import AMSTERDAM
from app.deadlines.calendar import WorkingDayCalendar
from app.regions.config import DeadlinePolicy, Situation


class DeadlinePhase(StrEnum):
    """The three deadlines of an intake; also the columns of a region's deadline policy."""

    RESPONSE = "response"
    INTAKE = "intake"
    SUPPORT_START = "support_start"


class DeadlineState(StrEnum):
    """A deadline as the intake view shows it (statistics count finer: PhaseState)."""

    OPEN = "open"
    MET = "met"
    BREACHED = "breached"


PHASES = tuple(DeadlinePhase)
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class Facts:
    pregnant: bool
    due_date: date | None
    safety_concern: bool


@dataclass(frozen=True)
class DueMoment:
    phase: str
    due_at: datetime  # UTC
    approaching_at: datetime  # UTC
    working_days: int


def weeks_pregnant(due_date: date, on: date) -> float:
    """Naegele: 280 days; weeks = 40 - (due - on) / 7."""
    return 40 - (due_date - on).days / 7


def situations(facts: Facts, received_on: date) -> list[Situation]:
    found: list[Situation] = []
    if facts.safety_concern:
        found.append(Situation.SAFETY_CONCERN)
    if facts.pregnant:
        if facts.due_date is not None and weeks_pregnant(facts.due_date, received_on) >= 28:
            found.append(Situation.PREGNANT_28_WEEKS_OR_MORE)
        else:
            found.append(Situation.PREGNANT_UNDER_28_WEEKS)
    else:
        found.append(Situation.NOT_PREGNANT)
    return found


def working_days(policy: DeadlinePolicy, facts: Facts, received_on: date) -> dict[str, int]:
    """Per phase, the strictest (smallest) number among the matching rows."""
    matching = [row for row in policy.rows if row.situation in situations(facts, received_on)]
    return {phase: min(getattr(row, phase) for row in matching) for phase in PHASES}


def end_of_local_day(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=AMSTERDAM).astimezone(UTC)


def compute(
    received_at: datetime, facts: Facts, policy: DeadlinePolicy, calendar: WorkingDayCalendar
) -> list[DueMoment]:
    """Counting starts on the working day after the local date of receipt; a deadline is due
    at 23:59:59 Europe/Amsterdam of its last working day. For a pregnant client no deadline
    falls on or after the due date (it moves to the last working day before it), but none
    moves before the response deadline."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    received_on = received_at.astimezone(AMSTERDAM).date()
    days = working_days(policy, facts, received_on)
    last_days = {phase: calendar.add_working_days(received_on, days[phase]) for phase in PHASES}
    if facts.pregnant and facts.due_date is not None:
        floor = last_days[DeadlinePhase.RESPONSE]
        cap = calendar.last_working_day_before(facts.due_date)
        for phase in (DeadlinePhase.INTAKE, DeadlinePhase.SUPPORT_START):
            if last_days[phase] > cap:
                last_days[phase] = max(cap, floor)
    return [
        DueMoment(
            phase=phase,
            due_at=end_of_local_day(last_days[phase]),
            approaching_at=end_of_local_day(
                calendar.subtract_working_days(last_days[phase], policy.approaching_working_days)
            ),
            working_days=days[phase],
        )
        for phase in PHASES
    ]


def days_pregnant_fmt(due_date: date, on: date) -> str:
    """Weeks+days pregnant on a date, e.g. '16+3'."""
    days = 280 - (due_date - on).days
    return f"{days // 7}+{days % 7}"
