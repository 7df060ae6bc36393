"""Concern codes by life domain (DOMAIN.md) and the vulnerability level, pure."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

DOMAINS: dict[str, tuple[str, ...]] = {
    "finances": ("insufficient_income", "debts", "no_baby_supplies"),
    "housing": ("housing_problem", "homeless"),
    "work_education": ("low_education", "no_daytime_activity"),
    "relationships": ("relationship_problems", "domestic_violence"),
    "mental_health": ("stress", "mental_health"),
    "substance_use": ("substance_use",),
    "physical_health": ("physical_health", "late_prenatal_care"),
    "social_network": ("social_isolation",),
    "participation": ("language_barrier", "newcomer", "no_health_insurance"),
    "cognition": ("intellectual_disability",),
    "justice": ("justice",),
    "parenting": ("parenting_concerns", "no_maternity_care"),
}
DOMAIN_OF = {code: domain for domain, codes in DOMAINS.items() for code in codes}
ConcernCode = StrEnum("ConcernCode", {code: code for code in DOMAIN_OF})  # type: ignore[misc]
HEAVY_DOMAINS = frozenset({"relationships", "mental_health", "substance_use", "cognition"})

LEVELS = ("potentially_vulnerable", "vulnerable", "very_vulnerable")


def vulnerability(concerns: Iterable[str], safety_concern: bool) -> str:
    """very_vulnerable: ≥ 3 concerns over ≥ 2 domains, or a safety concern;
    vulnerable: 2 concerns, or 1 in relationships/mental health/substance use/cognition;
    potentially_vulnerable: anything else (a professional's 'niet-pluis' feeling)."""
    codes = set(concerns)
    domains = {DOMAIN_OF[c] for c in codes if c in DOMAIN_OF}
    if safety_concern or (len(codes) >= 3 and len(domains) >= 2):
        return "very_vulnerable"
    if len(codes) >= 2 or domains & HEAVY_DOMAINS:
        return "vulnerable"
    return "potentially_vulnerable"


def at_least(level: str, minimum: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(minimum)
