"""The vulnerability level from concern codes (vocabularies: app.vocab), pure."""

from __future__ import annotations

from collections.abc import Iterable

from app.vocab import DOMAIN_OF, DOMAINS, ConcernCode, VulnerabilityLevel

__all__ = ["DOMAINS", "DOMAIN_OF", "HEAVY_DOMAINS", "ConcernCode", "VulnerabilityLevel", "at_least", "vulnerability"]

HEAVY_DOMAINS = frozenset({"relationships", "mental_health", "substance_use", "cognition"})

LEVELS = tuple(VulnerabilityLevel)  # in rising order


def vulnerability(concerns: Iterable[str], safety_concern: bool) -> VulnerabilityLevel:
    """very_vulnerable: ≥ 3 concerns over ≥ 2 domains, or a safety concern;
    vulnerable: 2 concerns, or 1 in relationships/mental health/substance use/cognition;
    potentially_vulnerable: anything else (a professional's 'niet-pluis' feeling)."""
    codes = set(concerns)
    domains = {DOMAIN_OF[c] for c in codes if c in DOMAIN_OF}
    if safety_concern or (len(codes) >= 3 and len(domains) >= 2):
        return VulnerabilityLevel.VERY_VULNERABLE
    if len(codes) >= 2 or domains & HEAVY_DOMAINS:
        return VulnerabilityLevel.VULNERABLE
    return VulnerabilityLevel.POTENTIALLY_VULNERABLE


def at_least(level: str, minimum: str) -> bool:
    return LEVELS.index(VulnerabilityLevel(level)) >= LEVELS.index(VulnerabilityLevel(minimum))
