"""Deadline compliance figures (pure): per phase, due, met on time, met late, open, overdue,
and the median and 90th percentile of working days from receipt to meeting it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from app.deadlines.calendar import WorkingDayCalendar
from app.deadlines.policy import PHASES


@dataclass(frozen=True)
class Row:
    phase: str
    received_on: date  # local date of receipt
    due_at: datetime
    met_at: datetime | None
    met_on: date | None  # local date it was met
    cancelled_at: datetime | None = None  # intake closed; only rows cancelled after due_at get here


@dataclass(frozen=True)
class PhaseCompliance:
    phase: str
    due: int
    met_on_time: int
    met_late: int
    open: int
    overdue: int
    median_working_days_to_meet: float | None
    p90_working_days_to_meet: float | None


def percentile(sorted_values: list[int], fraction: float) -> float | None:
    """Nearest-rank percentile (no interpolation: 'working days' are whole days)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return float(sorted_values[rank - 1])


def summarise(rows: Iterable[Row], now: datetime, calendar: WorkingDayCalendar) -> list[PhaseCompliance]:
    out = []
    grouped: dict[str, list[Row]] = {phase: [] for phase in PHASES}
    for row in rows:
        grouped.setdefault(row.phase, []).append(row)
    for phase, items in grouped.items():
        met = [r for r in items if r.met_at is not None]
        days = sorted(calendar.working_days_between(r.received_on, r.met_on) for r in met if r.met_on is not None)
        out.append(
            PhaseCompliance(
                phase=phase,
                due=len(items),
                met_on_time=sum(1 for r in met if r.met_at is not None and r.met_at <= r.due_at),
                met_late=sum(1 for r in met if r.met_at is not None and r.met_at > r.due_at),
                open=sum(1 for r in items if r.met_at is None and r.cancelled_at is None and r.due_at >= now),
                overdue=sum(1 for r in items if r.met_at is None and (r.cancelled_at is not None or r.due_at < now)),
                median_working_days_to_meet=percentile(days, 0.5),
                p90_working_days_to_meet=percentile(days, 0.9),
            )
        )
    return out
