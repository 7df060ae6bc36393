"""The pure core of the coded facts: what is fixed at registration, what follows changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from app.deadlines.calendar import WorkingDayCalendar
from app.statistics.facts import (
    DeadlineFact,
    HandoffFact,
    Snapshot,
    age_in_years,
    completed_weeks_pregnant,
    derive,
    erased,
    week_thursday,
)

CAL = WorkingDayCalendar()
RECEIVED = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # Thursday 31 Dec 23:30 in Amsterdam


def snap(**changes: object) -> Snapshot:
    base = Snapshot(
        region="rotterdam",
        received_at=RECEIVED,
        source="referral",
        referrer_role="midwife",
        birth_date=date(2003, 12, 31),
        pregnant=True,
        due_date=date(2027, 5, 1),
        first_child=True,
        concerns=(("debts", "referral"), ("stress", "referral")),
        safety_concern=False,
        vulnerability="vulnerable",
        status="received",
        close_reason=None,
        deadlines=(DeadlineFact("response", datetime(2027, 1, 5, 22, 59, 59, tzinfo=UTC), None, None),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_registration_facts_are_fixed_and_outcomes_follow() -> None:
    first = derive(None, snap(), CAL)
    assert first.received_on == date(2026, 12, 31) and first.received_week == date(2026, 12, 31)
    assert first.age_years == 23  # her birthday is the day of receipt
    assert first.weeks_pregnant == completed_weeks_pregnant(date(2027, 5, 1), date(2026, 12, 31)) == 22
    assert first.concerns_at_registration == ["debts", "stress"]
    assert first.phases["response"]["state"] == "open" and "dueAt" in first.phases["response"]

    # Later: a home assessment adds a concern and a higher level; a handoff is declined, another starts.
    later = derive(
        first,
        snap(
            concerns=(("debts", "referral"), ("stress", "referral"), ("domestic_violence", "assessment")),
            vulnerability="very_vulnerable",
            referrer_role=None,  # erased or merged: the registration's role stays
            status="support_started",
            contacted=True,
            contact_attempts=3,
            assessed=True,
            assessed_at_home=True,
            decided=None,
            handoffs=(
                HandoffFact("moeders-van-rotterdam", accepted=False, declined=True, started=False),
                HandoffFact("wijkteam", accepted=True, declined=False, started=True),
            ),
            deadlines=(
                # Met on Monday 4 January: working days after Thursday 31 Dec: Fri 1 Jan is a holiday -> 1.
                DeadlineFact(
                    "response",
                    datetime(2027, 1, 5, 22, 59, 59, tzinfo=UTC),
                    datetime(2027, 1, 4, 9, tzinfo=UTC),
                    None,
                ),
                DeadlineFact(
                    "intake",
                    datetime(2027, 1, 4, 22, 59, 59, tzinfo=UTC),
                    datetime(2027, 1, 8, 9, tzinfo=UTC),
                    None,
                ),
                DeadlineFact(
                    "support_start",
                    datetime(2027, 1, 4, 22, 59, 59, tzinfo=UTC),
                    None,
                    datetime(2027, 1, 6, tzinfo=UTC),
                ),
            ),
        ),
        CAL,
    )
    assert later.concerns_at_registration == ["debts", "stress"] and later.referrer_role == "midwife"
    assert later.vulnerability_at_registration == "vulnerable" and later.vulnerability == "very_vulnerable"
    assert later.programmes_decided == ["moeders-van-rotterdam", "wijkteam"]
    assert later.programmes_declined == ["moeders-van-rotterdam"] and later.programmes_started == ["wijkteam"]
    assert later.phases["response"] == {"state": "met_on_time", "workingDays": 1}
    assert later.phases["intake"] == {"state": "met_late", "workingDays": 5}
    assert later.phases["support_start"] == {"state": "missed", "workingDays": None}
    # A declined programme stays counted even when a later snapshot no longer shows it.
    again = derive(later, snap(handoffs=()), CAL)
    assert again.programmes_declined == ["moeders-van-rotterdam"] and again.contacted

    gone = erased(later)
    assert gone.received_on is None and gone.received_week == date(2026, 12, 31) and gone.erased
    assert all("dueAt" not in p for p in erased(first).phases.values())


def test_age_and_weeks_edges() -> None:
    assert age_in_years(date(2004, 2, 29), date(2026, 2, 28)) == 21
    assert age_in_years(date(2004, 2, 29), date(2026, 3, 1)) == 22
    assert completed_weeks_pregnant(date(2027, 5, 1), date(2027, 5, 1)) == 40
    assert completed_weeks_pregnant(date(2027, 5, 1), date(2027, 4, 30)) == 39  # 39+6
    assert week_thursday(date(2027, 1, 1)) == date(2026, 12, 31)
