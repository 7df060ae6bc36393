"""The default router's rules of region rotterdam, table-driven (pure, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from app.regions.config import load_region
from app.routing.router import ProgrammeInfo, RoutingFacts, load_router
from app.routing.rules import RulesRouter

REGION = load_region("rotterdam")
ON = date(2026, 11, 22)
CATALOGUE = [ProgrammeInfo(p.code, p.name, True) for p in REGION.programmes]


def facts(**kw) -> RoutingFacts:
    base = RoutingFacts(
        birth_date=date(2005, 1, 1),
        pregnant=True,
        due_date=ON + timedelta(days=280 - 16 * 7),
        first_child=True,
        children_birth_dates=(),
        concerns=("stress", "debts"),
        safety_concern=False,
        postcode="3073 AB",
        city="Rotterdam",
    )
    return replace(base, **kw)


def recommend(f: RoutingFacts, declined=frozenset(), catalogue=CATALOGUE):
    return RulesRouter().recommend(f, catalogue, ON, frozenset(declined), REGION)


@pytest.mark.parametrize(
    ("change", "programme"),
    [
        ({"concerns": ("stress", "debts", "housing_problem")}, "moeders-van-rotterdam"),
        ({}, "voorzorg"),
        (
            {
                "first_child": False,
                "children_birth_dates": (date(2023, 1, 1),),
                "due_date": ON + timedelta(days=280 - 20 * 7),
            },
            "stevig-ouderschap",
        ),
        ({"concerns": ("debts",), "due_date": ON + timedelta(days=280 - 30 * 7)}, "home-start"),
        ({"concerns": ("debts",)}, "wijkteam"),
        ({"concerns": ("stress", "debts", "housing_problem"), "postcode": "1011 AB"}, "voorzorg"),
    ],
)
def test_each_programme_chosen(change, programme):
    assert recommend(facts(**change)).programme == programme


def test_voorzorg_window_edge_28_plus_0_vs_28_plus_1():
    at_28_0 = facts(due_date=ON + timedelta(days=280 - 28 * 7))
    at_28_1 = facts(due_date=ON + timedelta(days=280 - 28 * 7 - 1))
    first = recommend(at_28_0)
    assert first.programme == "voorzorg"
    assert any("window closes 2026-11-22" in r for r in first.reasons)
    second = recommend(at_28_1)
    assert second.programme != "voorzorg"
    excluded = {e["programme"]: e["reasons"] for e in second.excluded}
    assert any("28+1" in r for r in excluded["voorzorg"])


def test_exclusion_reasons_and_age():
    result = recommend(facts(birth_date=date(1995, 1, 1)))
    excluded = {e["programme"]: e["reasons"] for e in result.excluded}
    assert any("age 31 > 25" in r for r in excluded["voorzorg"])
    assert any("not very vulnerable" in r for r in excluded["moeders-van-rotterdam"])


def test_capacity_fallback():
    full = [ProgrammeInfo(p.code, p.name, p.code != "voorzorg") for p in REGION.programmes]
    result = recommend(facts(), catalogue=full)
    assert result.programme == "stevig-ouderschap"
    assert {"programme": "voorzorg", "reasons": ["accepts no new clients now"]} in result.excluded


def test_declined_programme_is_skipped():
    result = recommend(facts(), declined={"voorzorg"})
    assert result.programme == "stevig-ouderschap"
    assert {"programme": "voorzorg", "reasons": ["declined this intake"]} in result.excluded


def test_safety_concern_gives_meldcode_advice():
    result = recommend(facts(safety_concern=True))
    assert result.advice == ["meldcode"] and result.programme == "moeders-van-rotterdam"
    assert result.vulnerability == "very_vulnerable"


def test_router_registered_as_entry_point_and_versioned():
    router = load_router("rules")
    result = router.recommend(facts(), CATALOGUE, ON, frozenset(), REGION)
    assert result.router == "rules" and result.rules_version.startswith("rotterdam-2026.1#")
