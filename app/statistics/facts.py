"""What statistics keep of an intake, pure: (previous facts, the intake as it is now) -> facts.

Everything here is a code, a count, a flag or a number of working days; nothing identifies
her. Registration facts (source, referrer role, concerns and vulnerability at registration)
are fixed at receipt; the rest follows every change. Programme histories only grow: a
declined handoff or a changed decision stays counted.

Dates: while the intake's personal data exists, its local date of receipt is kept exactly
(`received_on`); at erasure only its ISO week remains, stored as the Thursday of that week
(`received_week`). A period counts an erased intake when that Thursday falls inside it: the
ISO 8601 rule (a week belongs to the year, and here also the month and the period, that
holds its Thursday, i.e. the majority of its days). So a week that straddles 1 January is
counted wholly in the year of its Thursday: the week of Thursday 1 January 2026 in 2026,
the week of Thursday 31 December 2026 (with Friday 1 January 2027) in 2026.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from app.clock import AMSTERDAM
from app.deadlines.calendar import WorkingDayCalendar
from app.deadlines.policy import DeadlinePhase
from app.vocab import ConcernSource

PHASES = tuple(DeadlinePhase)
# Concerns named at registration (not found at the assessment).
REGISTRATION_SOURCES = (ConcernSource.REFERRAL, ConcernSource.SELF)


class PhaseState(StrEnum):
    MET_ON_TIME = "met_on_time"
    MET_LATE = "met_late"
    OPEN = "open"  # not met yet; late once its dueAt has passed
    MISSED = "missed"  # closed after it was due without being met
    CANCELLED = "cancelled"  # closed before it was due: not counted


def week_thursday(day: date) -> date:
    """The Thursday of `day`'s ISO week: the day that decides the week's year and month."""
    return day + timedelta(days=3 - day.weekday())


def age_in_years(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def completed_weeks_pregnant(due_date: date, on: date) -> int:
    """Naegele (280 days): completed weeks on `on`, e.g. 16+3 -> 16."""
    return (280 - (due_date - on).days) // 7


@dataclass(frozen=True)
class DeadlineFact:
    phase: str
    due_at: datetime
    met_at: datetime | None
    cancelled_at: datetime | None


@dataclass(frozen=True)
class HandoffFact:
    programme: str
    accepted: bool
    declined: bool
    started: bool


@dataclass(frozen=True)
class Snapshot:
    """The intake as it is now, as plain data (built from the live rows)."""

    region: str
    received_at: datetime
    source: str
    referrer_role: str | None
    birth_date: date | None
    pregnant: bool
    due_date: date | None
    first_child: bool | None
    concerns: tuple[tuple[str, str], ...]  # (code, source)
    safety_concern: bool
    vulnerability: str
    status: str
    close_reason: str | None
    contact_attempts: int = 0
    contacted: bool = False
    assessed: bool = False
    assessed_at_home: bool = False
    recommended: str | None = None
    decided: str | None = None
    handoffs: tuple[HandoffFact, ...] = ()
    deadlines: tuple[DeadlineFact, ...] = ()
    research_consent: bool = False


@dataclass(frozen=True)
class Facts:
    """One row of `intake_facts` (column names)."""

    region: str
    received_on: date | None
    received_week: date
    source: str
    referrer_role: str | None
    age_years: int | None
    pregnant: bool
    weeks_pregnant: int | None
    first_child: bool | None
    concerns_at_registration: list[str]
    concerns: list[dict[str, str]]
    safety_concern: bool
    vulnerability_at_registration: str
    vulnerability: str
    contacted: bool
    contact_attempts: int
    assessed: bool
    assessed_at_home: bool
    programme_recommended: str | None
    programmes_decided: list[str]
    programmes_offered: list[str]
    programmes_accepted: list[str]
    programmes_declined: list[str]
    programmes_started: list[str]
    phases: dict[str, dict[str, Any]]
    status: str
    close_reason: str | None
    research_consent: bool
    erased: bool = False

    def columns(self) -> dict[str, Any]:
        """What `asdict` gives (lists and dicts copied, two levels deep), without its generic
        deep copy: this runs on every referral and every change."""
        return {name: _copied(getattr(self, name)) for name in _FACT_FIELDS}


_FACT_FIELDS = tuple(f.name for f in fields(Facts))


def _copied(value: Any) -> Any:
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    if isinstance(value, dict):
        return {k: dict(v) if isinstance(v, dict) else v for k, v in value.items()}
    return value


def _grow(previous: Iterable[str], now: Iterable[str | None]) -> list[str]:
    return sorted(set(previous) | {p for p in now if p})


def _kept(previous: Facts | None, name: str) -> Any:
    return getattr(previous, name) if previous else None


def phase_outcome(deadline: DeadlineFact, received_on: date, calendar: WorkingDayCalendar) -> dict[str, Any]:
    if deadline.met_at is not None:
        met_on = deadline.met_at.astimezone(AMSTERDAM).date()
        state = PhaseState.MET_ON_TIME if deadline.met_at <= deadline.due_at else PhaseState.MET_LATE
        return {"state": state.value, "workingDays": calendar.working_days_between(received_on, met_on)}
    if deadline.cancelled_at is not None:
        state = PhaseState.MISSED if deadline.cancelled_at > deadline.due_at else PhaseState.CANCELLED
        return {"state": state.value, "workingDays": None}
    return {"state": PhaseState.OPEN.value, "workingDays": None, "dueAt": deadline.due_at.isoformat()}


def derive(previous: Facts | None, now: Snapshot, calendar: WorkingDayCalendar) -> Facts:
    received_on = now.received_at.astimezone(AMSTERDAM).date()
    registration_codes = sorted({code for code, source in now.concerns if source in REGISTRATION_SOURCES})
    age = age_in_years(now.birth_date, received_on) if now.birth_date else None
    weeks = completed_weeks_pregnant(now.due_date, received_on) if now.pregnant and now.due_date else None
    return Facts(
        region=now.region,
        received_on=received_on,
        received_week=week_thursday(received_on),
        source=previous.source if previous else now.source,
        referrer_role=previous.referrer_role if previous else now.referrer_role,
        age_years=age if age is not None else _kept(previous, "age_years"),
        pregnant=now.pregnant,
        weeks_pregnant=weeks if weeks is not None or not now.pregnant else _kept(previous, "weeks_pregnant"),
        first_child=now.first_child,
        concerns_at_registration=previous.concerns_at_registration if previous else registration_codes,
        concerns=[{"code": code, "source": source} for code, source in now.concerns],
        safety_concern=now.safety_concern,
        vulnerability_at_registration=previous.vulnerability_at_registration if previous else now.vulnerability,
        vulnerability=now.vulnerability,
        contacted=now.contacted or bool(previous and previous.contacted),
        contact_attempts=max(now.contact_attempts, previous.contact_attempts if previous else 0),
        assessed=now.assessed or bool(previous and previous.assessed),
        assessed_at_home=now.assessed_at_home or bool(previous and previous.assessed_at_home),
        programme_recommended=now.recommended,
        programmes_decided=_grow(
            previous.programmes_decided if previous else (), [now.decided, *(h.programme for h in now.handoffs)]
        ),
        programmes_offered=_grow(previous.programmes_offered if previous else (), (h.programme for h in now.handoffs)),
        programmes_accepted=_grow(
            previous.programmes_accepted if previous else (), (h.programme for h in now.handoffs if h.accepted)
        ),
        programmes_declined=_grow(
            previous.programmes_declined if previous else (), (h.programme for h in now.handoffs if h.declined)
        ),
        programmes_started=_grow(
            previous.programmes_started if previous else (), (h.programme for h in now.handoffs if h.started)
        ),
        phases={d.phase: phase_outcome(d, received_on, calendar) for d in now.deadlines},
        status=now.status,
        close_reason=now.close_reason,
        research_consent=now.research_consent,
    )


def erased(facts: Facts) -> Facts:
    """What is left at erasure: the exact date goes (the week stays), and open deadlines lose
    their due moment (an erased intake is closed, so none should be open any more)."""
    phases = {phase: {k: v for k, v in outcome.items() if k != "dueAt"} for phase, outcome in facts.phases.items()}
    return replace(facts, received_on=None, phases=phases, erased=True)
