"""The figures of `GET /statistics`, pure: (coded facts of the period's intakes, period, k) ->
counts with small-cell suppression applied (suppression.py).

Every count is a cell `{count, share, suppressed}`; every total that a group of cells adds up
to is a constraint, so secondary suppression sees them all at once. Shares are of the group's
total (registrations for most figures; intakes assessed at home for concerns after the
assessment; pregnant registrations for weeks; the phase's counted deadlines for lead times).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.deadlines.report import percentile
from app.statistics.facts import PHASES, PhaseState
from app.statistics.suppression import Constraint, share, suppress
from app.vocab import DOMAIN_OF, CloseReason, IntakeSource, ReferrerRole, VulnerabilityLevel

SOURCES = tuple(IntakeSource)
REFERRER_ROLES = tuple(ReferrerRole)
LEVELS = tuple(VulnerabilityLevel)
WEEK_BANDS = ("<12", "12-19", "20-27", ">=28")
AGE_BANDS = ("<20", "20-24", "25-29", "30-34", ">=35")
STAGES = ("recommended", "decided", "offered", "accepted", "declined", "supportStarted")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class FactRow:
    """The coded facts of one intake, as statistics read them."""

    counted_on: date  # the exact local date of receipt, or the Thursday of its ISO week once erased
    source: str
    referrer_role: str | None
    age_years: int | None
    pregnant: bool
    weeks_pregnant: int | None
    concerns_at_registration: tuple[str, ...]
    concerns: tuple[str, ...]  # every concern known now
    vulnerability: str
    contacted: bool
    assessed: bool
    assessed_at_home: bool
    programme_recommended: str | None
    programmes_decided: tuple[str, ...] = ()
    programmes_offered: tuple[str, ...] = ()
    programmes_accepted: tuple[str, ...] = ()
    programmes_declined: tuple[str, ...] = ()
    programmes_started: tuple[str, ...] = ()
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    close_reason: str | None = None


def week_band(weeks: int) -> str:
    if weeks < 12:
        return "<12"
    if weeks < 20:
        return "12-19"
    if weeks < 28:
        return "20-27"
    return ">=28"


def age_band(age: int) -> str:
    if age < 20:
        return "<20"
    if age < 25:
        return "20-24"
    if age < 30:
        return "25-29"
    if age < 35:
        return "30-34"
    return ">=35"


def months_between(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def phase_counted(outcome: dict[str, Any], now: datetime) -> tuple[bool, bool]:
    """(counted, on time) of one phase: met, missed, or open past its due moment count."""
    state = outcome.get("state")
    if state == PhaseState.MET_ON_TIME:
        return True, True
    if state in (PhaseState.MET_LATE, PhaseState.MISSED):
        return True, False
    if state == PhaseState.OPEN and outcome.get("dueAt"):
        return datetime.fromisoformat(outcome["dueAt"]) < now, False
    return False, False


class Tally:
    """Counts by key, the constraints between them, and each cell's share denominator."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.keys: list[str] = []
        self.denominators: dict[str, str] = {}
        self.constraints: list[Constraint] = []

    def cell(self, key: str, denominator: str | None = None) -> str:
        if key not in self.counts:
            self.counts[key] = 0
            self.keys.append(key)
        if denominator:
            self.denominators[key] = denominator
        return key

    def group(self, total: str, prefix: str, codes: Iterable[str], values: Iterable[str], *, share_of: str) -> None:
        """Cells `prefix.code` for each code (zeros included), counted from `values`, adding up to `total`."""
        found = Counter(values)
        codes = list(codes) + sorted(c for c in found if c not in codes)
        parts = []
        for code in codes:
            key = self.cell(f"{prefix}.{code}", share_of)
            self.counts[key] += found.get(code, 0)
            parts.append(key)
        self.constraints.append(Constraint(total, tuple(parts)))


@dataclass
class Published:
    counts: dict[str, int]
    hidden: frozenset[str]
    denominators: dict[str, str]
    medians: dict[str, float | None]

    def cell(self, key: str) -> dict[str, Any]:
        hidden = key in self.hidden
        count = self.counts[key]
        denominator = self.denominators.get(key)
        value = None
        if denominator is not None:
            value = share(count, self.counts[denominator], hidden=hidden or denominator in self.hidden)
        return {"count": None if hidden else count, "share": value, "suppressed": hidden}

    def cells(self, prefix: str) -> dict[str, dict[str, Any]]:
        start = prefix + "."
        return {key.removeprefix(start): self.cell(key) for key in self.counts if key.startswith(start)}


def compute(
    rows: Sequence[FactRow], start: date, end: date, k: int, programmes: Sequence[str], now: datetime
) -> dict[str, Any]:
    """Every figure of the contract for these rows, suppression applied (camelCase keys)."""
    t = Tally()
    total = t.cell("registrations.total")
    t.counts[total] = len(rows)
    # "self" is how facts coded a self-registration before IntakeSource named it.
    sources = [
        IntakeSource.SELF_REGISTRATION if r.source in ("self", IntakeSource.SELF_REGISTRATION) else r.source
        for r in rows
    ]
    t.group(total, "registrations.bySource", SOURCES, sources, share_of=total)
    referral = "registrations.bySource.referral"
    t.group(
        referral,
        "registrations.byReferrerRole",
        REFERRER_ROLES,
        (r.referrer_role or UNKNOWN for r in rows if r.source == IntakeSource.REFERRAL),
        share_of=referral,
    )
    t.group(
        total,
        "registrations.byMonth",
        months_between(start, end),
        (f"{r.counted_on:%Y-%m}" for r in rows),
        share_of=total,
    )

    pregnant = t.cell("pregnancy.pregnant", total)
    t.counts[pregnant] = sum(1 for r in rows if r.pregnant)
    not_pregnant = t.cell("pregnancy.notPregnant", total)
    t.counts[not_pregnant] = len(rows) - t.counts[pregnant]
    t.constraints.append(Constraint(total, (pregnant, not_pregnant)))
    t.group(
        pregnant,
        "pregnancy.weeksAtRegistration",
        WEEK_BANDS,
        (week_band(r.weeks_pregnant) if r.weeks_pregnant is not None else UNKNOWN for r in rows if r.pregnant),
        share_of=pregnant,
    )
    t.group(
        total,
        "age.atRegistration",
        AGE_BANDS,
        (age_band(r.age_years) if r.age_years is not None else UNKNOWN for r in rows),
        share_of=total,
    )
    t.group(total, "vulnerability", LEVELS, (r.vulnerability for r in rows), share_of=total)

    closed = [r.close_reason or "open" for r in rows]
    t.group(total, "outcomes", (*CloseReason, "open"), closed, share_of=total)

    for name, flag in (
        ("contacted", lambda r: r.contacted),
        ("assessed", lambda r: r.assessed),
        ("assessedAtHome", lambda r: r.assessed_at_home),
    ):
        key = t.cell(f"intake.{name}", total)
        t.counts[key] = sum(1 for r in rows if flag(r))
    at_home = "intake.assessedAtHome"
    for code in DOMAIN_OF:
        registered = t.cell(f"concerns.{code}.atRegistration", total)
        t.counts[registered] = sum(1 for r in rows if code in r.concerns_at_registration)
        after = t.cell(f"concerns.{code}.afterAssessment", at_home)
        t.counts[after] = sum(1 for r in rows if r.assessed_at_home and code in r.concerns)

    stage_of = {
        "recommended": lambda r: (r.programme_recommended,) if r.programme_recommended else (),
        "decided": lambda r: r.programmes_decided,
        "offered": lambda r: r.programmes_offered,
        "accepted": lambda r: r.programmes_accepted,
        "declined": lambda r: r.programmes_declined,
        "supportStarted": lambda r: r.programmes_started,
    }
    seen = list(programmes) + sorted(
        {p for r in rows for stage in stage_of.values() for p in stage(r)} - set(programmes)
    )
    for programme in seen:
        for stage, pick in stage_of.items():
            key = t.cell(f"routing.{programme}.{stage}", total)
            t.counts[key] = sum(1 for r in rows if programme in pick(r))

    medians: dict[str, float | None] = {}
    for phase in PHASES:
        due = t.cell(f"leadTimes.{phase}.due")
        on_time = t.cell(f"leadTimes.{phase}.metOnTime", due)
        late = t.cell(f"leadTimes.{phase}.late", due)
        days = []
        for r in rows:
            outcome = r.phases.get(phase)
            if not outcome:
                continue
            counted, in_time = phase_counted(outcome, now)
            if counted:
                t.counts[due] += 1
                t.counts[on_time if in_time else late] += 1
            if outcome.get("workingDays") is not None:
                days.append(int(outcome["workingDays"]))
        t.constraints.append(Constraint(due, (on_time, late)))
        days.sort()
        medians[f"{phase}.median"] = percentile(days, 0.5) if len(days) >= k else None
        medians[f"{phase}.p90"] = percentile(days, 0.9) if len(days) >= k else None

    weeks = sorted(r.weeks_pregnant for r in rows if r.pregnant and r.weeks_pregnant is not None)
    hidden = suppress(t.counts, t.constraints, k)
    out = Published(dict(t.counts), hidden, t.denominators, medians)
    median_weeks = percentile(weeks, 0.5) if len(weeks) >= k and pregnant not in hidden else None

    def lead(phase: str) -> dict[str, Any]:
        due = f"leadTimes.{phase}.due"
        suppressed_group = due in hidden
        return {
            "due": out.cell(due),
            "metOnTime": out.cell(f"leadTimes.{phase}.metOnTime"),
            "late": out.cell(f"leadTimes.{phase}.late"),
            "shareOnTime": out.cell(f"leadTimes.{phase}.metOnTime")["share"],
            "medianWorkingDays": None if suppressed_group else medians[f"{phase}.median"],
            "p90WorkingDays": None if suppressed_group else medians[f"{phase}.p90"],
        }

    return {
        "from": start,
        "to": end,
        "k": k,
        "registrations": {
            "total": out.cell(total),
            "bySource": out.cells("registrations.bySource"),
            "byReferrerRole": out.cells("registrations.byReferrerRole"),
            "byMonth": out.cells("registrations.byMonth"),
        },
        "pregnancy": {
            "pregnant": out.cell(pregnant),
            "notPregnant": out.cell(not_pregnant),
            "weeksAtRegistration": out.cells("pregnancy.weeksAtRegistration"),
            "medianWeeksAtRegistration": median_weeks,
        },
        "age": {"atRegistration": out.cells("age.atRegistration")},
        "concerns": {
            code: {
                "atRegistration": out.cell(f"concerns.{code}.atRegistration"),
                "afterAssessment": out.cell(f"concerns.{code}.afterAssessment"),
            }
            for code in DOMAIN_OF
        },
        "vulnerability": out.cells("vulnerability"),
        "intake": {
            "contacted": out.cell("intake.contacted"),
            "assessed": out.cell("intake.assessed"),
            "assessedAtHome": out.cell(at_home),
            "unreachable": out.cell("outcomes.unreachable"),
            "declinedByClient": out.cell("outcomes.declined_by_client"),
        },
        "routing": {
            programme: {stage: out.cell(f"routing.{programme}.{stage}") for stage in STAGES} for programme in seen
        },
        "leadTimes": {phase: lead(phase) for phase in PHASES},
        "outcomes": out.cells("outcomes"),
    }
