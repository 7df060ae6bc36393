"""Working days under the Algemene termijnenwet (art. 1 and 3), for any year.

Not working days: Saturday, Sunday, New Year's Day, Good Friday, Easter Monday, King's Day,
5 May (every year), Ascension Day, Whit Monday, Christmas Day, Boxing Day, plus the
closure days a region configures. The `holidays` library gives the Dutch public holidays;
it knows 5 May only in lustrum years, so the statute's yearly 5 May is added here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> frozenset[date]:
    days = set(holidays.country_holidays("NL", years=year).keys())
    days.add(date(year, 5, 5))
    return frozenset(days)


class WorkingDayCalendar:
    def __init__(self, closure_days: Iterable[date] = ()) -> None:
        self.closure_days = frozenset(closure_days)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in statutory_holidays(day.year) and day not in self.closure_days

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (start itself never counts); 0 gives `start`."""
        day = start
        remaining = count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def last_working_day_before(self, day: date) -> date:
        day -= timedelta(days=1)
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def subtract_working_days(self, day: date, count: int) -> date:
        for _ in range(count):
            day = self.last_working_day_before(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        if end <= start:
            return 0
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=offset))
        )
