"""The default router: the region's declarative rules (app/regions/<region>.yaml), pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.regions.config import Conditions, RegionConfig, Residence
from app.routing.router import ProgrammeInfo, Recommendation, RoutingFacts
from app.routing.vulnerability import at_least, vulnerability

LEVEL_WORDS = {
    "potentially_vulnerable": "potentially vulnerable",
    "vulnerable": "vulnerable",
    "very_vulnerable": "very vulnerable",
}


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def months_between(birth: date, on: date) -> int:
    months = (on.year - birth.year) * 12 + on.month - birth.month
    return months - (1 if on.day < birth.day else 0)


def days_pregnant(due: date, on: date) -> int:
    return 280 - (due - on).days


def fmt_weeks(days: int) -> str:
    return f"{days // 7}+{days % 7}"


def lives_in_region(facts: RoutingFacts, residence: Residence) -> bool | None:
    if facts.postcode:
        digits = int(facts.postcode[:4])
        return any(low <= digits <= high for low, high in residence.postcode_ranges)
    if facts.city:
        return facts.city.strip().lower() in {c.lower() for c in residence.cities}
    return None


@dataclass
class Outcome:
    holds: bool
    reasons: list[str]


def evaluate(cond: Conditions, facts: RoutingFacts, on: date, region: RegionConfig, level: str) -> Outcome:
    reasons: list[str] = []
    failures: list[str] = []

    def check(ok: bool, yes: str, no: str) -> None:
        (reasons if ok else failures).append(yes if ok else no)

    if cond.pregnant is not None:
        check(
            facts.pregnant == cond.pregnant,
            "pregnant" if cond.pregnant else "not pregnant",
            "not pregnant" if cond.pregnant else "pregnant",
        )
    if cond.lives_in_region:
        lives = lives_in_region(facts, region.residence)
        check(
            bool(lives),
            f"lives in {region.municipality}",
            f"does not live in {region.municipality}"
            if lives is False
            else f"residence in {region.municipality} unknown",
        )
    if cond.min_vulnerability:
        word = LEVEL_WORDS[level]
        check(at_least(level, cond.min_vulnerability), word, f"{word}, not {LEVEL_WORDS[cond.min_vulnerability]}")
    if cond.first_child:
        first = facts.first_child if facts.first_child is not None else not facts.children_birth_dates
        check(first and not facts.children_birth_dates, "first child", "not a first child")
    if cond.max_age is not None:
        if facts.birth_date is None:
            failures.append("age unknown")
        else:
            age = age_on(facts.birth_date, on)
            check(age <= cond.max_age, f"age {age} ≤ {cond.max_age}", f"age {age} > {cond.max_age}")
    if cond.max_weeks_pregnant is not None:
        weeks, extra = cond.max_weeks_pregnant
        limit = weeks * 7 + extra
        if not facts.pregnant or facts.due_date is None:
            failures.append("not pregnant")
        else:
            days = days_pregnant(facts.due_date, on)
            closes = facts.due_date - timedelta(days=280 - limit)
            check(
                days <= limit,
                f"{fmt_weeks(days)} weeks pregnant ≤ {weeks}+{extra} (window closes {closes.isoformat()})",
                f"{fmt_weeks(days)} weeks pregnant > {weeks}+{extra} (window closed {closes.isoformat()})",
            )
    if cond.min_weeks_pregnant is not None:
        if not facts.pregnant or facts.due_date is None:
            failures.append("not pregnant")
        else:
            days = days_pregnant(facts.due_date, on)
            check(
                days >= cond.min_weeks_pregnant * 7,
                f"{fmt_weeks(days)} weeks pregnant ≥ {cond.min_weeks_pregnant}",
                f"{fmt_weeks(days)} weeks pregnant < {cond.min_weeks_pregnant}",
            )
    if cond.any_concern:
        present = [c for c in cond.any_concern if c in facts.concerns]
        check(
            bool(present),
            "concerns: " + ", ".join(present),
            "none of the concerns " + ", ".join(cond.any_concern),
        )
    youngest = max(facts.children_birth_dates) if facts.children_birth_dates else None
    if cond.youngest_child_max_months is not None:
        if youngest is None:
            failures.append("no child yet")
        else:
            months = months_between(youngest, on)
            check(
                months <= cond.youngest_child_max_months,
                f"youngest child {months} months ≤ {cond.youngest_child_max_months}",
                f"youngest child {months} months > {cond.youngest_child_max_months}",
            )
    if cond.youngest_child_max_years is not None:
        if youngest is None:
            failures.append("no child yet")
        else:
            years = age_on(youngest, on)
            check(
                years < cond.youngest_child_max_years,
                f"youngest child {years} years (0–{cond.youngest_child_max_years})",
                f"youngest child {years} years, over {cond.youngest_child_max_years}",
            )
    if cond.any_of:
        outcomes = [evaluate(option, facts, on, region, level) for option in cond.any_of]
        holding = next((o for o in outcomes if o.holds), None)
        if holding:
            reasons.extend(holding.reasons)
        else:
            failures.append(" and ".join(r for o in outcomes for r in o.reasons))
    return Outcome(holds=not failures, reasons=reasons if not failures else failures)


class RulesRouter:
    name = "rules"

    def recommend(
        self,
        facts: RoutingFacts,
        catalogue: list[ProgrammeInfo],
        on: date,
        declined: frozenset[str],
        region: RegionConfig,
    ) -> Recommendation:
        level = vulnerability(facts.concerns, facts.safety_concern)
        available = {p.code: p for p in catalogue}
        result = Recommendation(
            programme=None,
            router=self.name,
            rules_version=f"{region.routing.version}#{region.content_hash}",
            vulnerability=level,
        )
        if facts.safety_concern:
            result.advice.append("meldcode")
        for rule in region.routing.rules:
            outcome = evaluate(rule.when, facts, on, region, level)
            programme = available.get(rule.programme)
            if not outcome.holds:
                result.excluded.append({"programme": rule.programme, "reasons": outcome.reasons})
            elif rule.programme in declined:
                result.excluded.append({"programme": rule.programme, "reasons": ["declined this intake"]})
            elif programme is None or not programme.accepting_clients:
                result.excluded.append({"programme": rule.programme, "reasons": ["accepts no new clients now"]})
            elif rule.additional:
                result.additional.append({"programme": rule.programme, "reasons": outcome.reasons})
            elif result.programme is None:
                result.programme = rule.programme
                result.reasons = list(outcome.reasons)
                if rule.reason:
                    result.reasons.append(rule.reason)
                elif not outcome.reasons:
                    result.reasons.append(
                        f"None of the programmes before it fits now; {programme.name} has no further conditions."
                    )
                if rule.checked_at_home:
                    result.reasons.append("to check at the home visit: " + ", ".join(rule.checked_at_home))
                if facts.safety_concern:
                    result.reasons.insert(0, "safety concern: consult Veilig Thuis (meldcode)")
            else:
                result.alternatives.append({"programme": rule.programme, "reasons": outcome.reasons})
        return result
