"""The vulnerability level (DOMAIN.md, "Concerns"), a pure function, tested on its own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.intakes.concerns import DOMAIN_OF, DOMAINS, LEVELS, at_least, vulnerability


@pytest.mark.parametrize(
    ("concerns", "safety", "level"),
    [
        ([], False, "potentially_vulnerable"),  # a "niet-pluis" feeling with no named concern
        (["debts"], False, "potentially_vulnerable"),
        (["domestic_violence"], False, "vulnerable"),  # one concern in a heavy domain
        (["stress"], False, "vulnerable"),
        (["substance_use"], False, "vulnerable"),
        (["intellectual_disability"], False, "vulnerable"),
        (["debts", "insufficient_income"], False, "vulnerable"),  # two concerns
        (["debts", "insufficient_income", "no_baby_supplies"], False, "vulnerable"),  # 3 but one domain
        (["debts", "insufficient_income", "housing_problem"], False, "very_vulnerable"),  # 3 over 2 domains
        ([], True, "very_vulnerable"),  # a safety concern
        (["debts"], True, "very_vulnerable"),
    ],
)
def test_levels_of_the_domain_definition(concerns, safety, level):
    assert vulnerability(concerns, safety) == level


def test_every_concern_code_has_exactly_one_domain():
    codes = [code for codes in DOMAINS.values() for code in codes]
    assert len(codes) == len(set(codes)) == len(DOMAIN_OF)


@given(st.lists(st.sampled_from(sorted(DOMAIN_OF)), max_size=8), st.booleans())
def test_more_concerns_never_lower_the_level(concerns, safety):
    level = vulnerability(concerns, safety)
    assert level in LEVELS
    for extra in DOMAIN_OF:
        assert at_least(vulnerability([*concerns, extra], safety), level)


def test_at_least_orders_the_levels():
    assert at_least("very_vulnerable", "vulnerable")
    assert at_least("vulnerable", "vulnerable")
    assert not at_least("potentially_vulnerable", "vulnerable")
