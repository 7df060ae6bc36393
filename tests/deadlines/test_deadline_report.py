"""The compliance report against a hand-computed fixture (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.deadlines.calendar import WorkingDayCalendar
from app.deadlines.report import PhaseCompliance, Row, percentile, summarise


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=UTC)


def test_report_matches_hand_computed_figures() -> None:
    # Received Monday 2 Nov 2026. Working days after it: Tue 3 = 1, Wed 4 = 2, Thu 5 = 3, Fri 6 = 4, Mon 9 = 5.
    received = date(2026, 11, 2)
    rows = [
        Row("response", received, at("2026-11-04", 22), at("2026-11-03"), date(2026, 11, 3)),  # on time, 1 day
        Row("response", received, at("2026-11-04", 22), at("2026-11-04"), date(2026, 11, 4)),  # on time, 2 days
        Row("response", received, at("2026-11-04", 22), at("2026-11-09"), date(2026, 11, 9)),  # late, 5 days
        Row("response", received, at("2026-11-04", 22), None, None),  # overdue (now is later)
        Row("response", received, at("2026-11-30", 22), None, None),  # open
        Row("intake", received, at("2026-11-04", 22), None, None, cancelled_at=at("2026-11-05")),  # closed late
    ]
    now = at("2026-11-20")
    figures = {f.phase: f for f in summarise(rows, now, WorkingDayCalendar())}
    assert figures["response"] == PhaseCompliance(
        phase="response",
        due=5,
        met_on_time=2,
        met_late=1,
        open=1,
        overdue=1,
        median_working_days_to_meet=2.0,  # of [1, 2, 5]
        p90_working_days_to_meet=5.0,  # nearest rank: ceil(0.9 * 3) = 3rd
    )
    assert figures["intake"].overdue == 1 and figures["intake"].open == 0
    assert figures["support_start"].due == 0 and figures["support_start"].median_working_days_to_meet is None


def test_percentile_nearest_rank() -> None:
    values = list(range(1, 11))
    assert percentile(values, 0.5) == 5.0 and percentile(values, 0.9) == 9.0 and percentile([], 0.5) is None
