"""The pure deadline core: pinned cases and hypothesis invariants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.deadlines.calendar import WorkingDayCalendar
from app.deadlines.policy import Facts, compute
from app.regions.config import load_region

AMS = ZoneInfo("Europe/Amsterdam")
POLICY = load_region("rotterdam").deadlines
CAL = WorkingDayCalendar()


def due(received: datetime, facts: Facts) -> dict[str, datetime]:
    return {d.phase: d.due_at.astimezone(AMS) for d in compute(received, facts, POLICY, CAL)}


PREGNANT_EARLY = Facts(pregnant=True, due_date=date(2026, 12, 20), safety_concern=False)


def test_calendar_termijnenwet():
    assert not CAL.is_working_day(date(2026, 5, 5))  # 5 May, not a lustrum year
    assert not CAL.is_working_day(date(2027, 5, 5))
    assert not CAL.is_working_day(date(2026, 4, 3))  # Good Friday
    assert not CAL.is_working_day(date(2026, 4, 27))  # King's Day
    assert not CAL.is_working_day(date(2025, 4, 26))  # King's Day on the 26th when the 27th is a Sunday
    assert not CAL.is_working_day(date(2026, 5, 14))  # Ascension
    assert not CAL.is_working_day(date(2026, 5, 25))  # Whit Monday
    assert CAL.is_working_day(date(2026, 5, 15))  # Friday after Ascension: a region may close it
    assert not WorkingDayCalendar([date(2026, 5, 15)]).is_working_day(date(2026, 5, 15))


def test_pinned_may_4_2026():
    received = datetime(2026, 5, 4, 10, 0, tzinfo=AMS)
    facts = Facts(pregnant=True, due_date=date(2026, 11, 1), safety_concern=False)
    got = due(received, facts)
    assert got["response"] == datetime(2026, 5, 7, 23, 59, 59, tzinfo=AMS)
    assert got["response"].utcoffset() == timedelta(hours=2)  # CEST


def test_pinned_christmas_eve_2026():
    received = datetime(2026, 12, 24, 15, 0, tzinfo=AMS)
    facts = Facts(pregnant=True, due_date=date(2027, 6, 1), safety_concern=False)
    assert due(received, facts)["response"].date() == date(2026, 12, 29)


def test_received_just_after_local_midnight_counts_from_that_local_date():
    # 00:30 CEST on Tuesday 9 June 2026 is 22:30 UTC on Monday 8 June
    received = datetime(2026, 6, 8, 22, 30, tzinfo=UTC)
    facts = Facts(pregnant=True, due_date=date(2026, 12, 1), safety_concern=False)
    assert due(received, facts)["response"].date() == date(2026, 6, 11)  # Wed = 1, Thu = 2


def test_saturday_counts_from_monday():
    received = datetime(2026, 6, 13, 12, 0, tzinfo=AMS)
    facts = Facts(pregnant=False, due_date=None, safety_concern=False)
    assert due(received, facts)["response"].date() == date(2026, 6, 19)  # Mon..Fri = 5


def test_safety_concern_row_is_strictest():
    received = datetime(2026, 6, 8, 9, 0, tzinfo=AMS)
    got = due(received, Facts(pregnant=False, due_date=None, safety_concern=True))
    assert got["response"].date() == date(2026, 6, 9)
    assert got["intake"].date() == date(2026, 6, 11)
    assert got["support_start"].date() == date(2026, 6, 22)


def test_due_date_cap_never_before_response():
    received = datetime(2026, 6, 8, 9, 0, tzinfo=AMS)  # Monday
    facts = Facts(pregnant=True, due_date=date(2026, 6, 12), safety_concern=False)  # Friday, >= 28 weeks
    got = due(received, facts)
    assert got["response"].date() == date(2026, 6, 9)
    assert got["intake"].date() == date(2026, 6, 11)  # capped to Thursday before the due date
    assert got["support_start"].date() == date(2026, 6, 11)
    tomorrow = Facts(pregnant=True, due_date=date(2026, 6, 9), safety_concern=False)
    capped = due(received, tomorrow)
    assert capped["intake"] == capped["response"]  # never before the response deadline


def test_daylight_saving_change():
    # received Friday before the switch to winter time (25 Oct 2026)
    received = datetime(2026, 10, 23, 12, 0, tzinfo=AMS)
    got = due(received, Facts(pregnant=False, due_date=None, safety_concern=False))
    assert got["response"] == datetime(2026, 10, 30, 23, 59, 59, tzinfo=AMS)
    assert got["response"].utcoffset() == timedelta(hours=1)


moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))
facts_st = st.builds(
    Facts,
    pregnant=st.booleans(),
    due_date=st.none() | st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 12, 31)),
    safety_concern=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), n=st.integers(0, 40))
def test_add_working_days_monotone_and_on_working_days(start, n):
    a = CAL.add_working_days(start, n)
    b = CAL.add_working_days(start, n + 1)
    assert b > a
    assert CAL.is_working_day(b)
    if n > 0:
        assert CAL.is_working_day(a)


@settings(max_examples=200, deadline=None)
@given(received=moments, facts=facts_st)
def test_deadlines_fall_on_working_days_and_are_ordered(received, facts):
    got = compute(received, facts, POLICY, CAL)
    for d in got:
        local = d.due_at.astimezone(AMS)
        assert CAL.is_working_day(local.date())
        assert (local.hour, local.minute, local.second) == (23, 59, 59)
        assert d.due_at > received
    by_phase = {d.phase: d.due_at for d in got}
    assert by_phase["response"] <= by_phase["intake"] <= by_phase["support_start"]


@settings(max_examples=200, deadline=None)
@given(received=moments, facts=facts_st)
def test_stricter_facts_never_give_a_later_deadline(received, facts):
    base = {d.phase: d.due_at for d in compute(received, facts, POLICY, CAL)}
    safer = Facts(pregnant=facts.pregnant, due_date=facts.due_date, safety_concern=True)
    stricter = {d.phase: d.due_at for d in compute(received, safer, POLICY, CAL)}
    for phase, moment in stricter.items():
        assert moment <= base[phase]
