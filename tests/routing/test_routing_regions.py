"""The default rules of every shipped region, table-driven (pure, no database): each
programme of each region, the additional supports with their reasons, the catch-all's
sentence, and no `moeders-van-rotterdam` outside Rotterdam."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from app.regions.config import RegionConfig, load_region
from app.routing.router import ProgrammeInfo, Recommendation, RoutingFacts, recommend
from app.routing.rules import RulesRouter

ON = date(2026, 11, 22)


def weeks(n: int, days: int = 0) -> date:
    """The due date of someone `n`+`days` weeks pregnant on ON."""
    return ON + timedelta(days=280 - n * 7 - days)


def facts(region: str, **kw: Any) -> RoutingFacts:
    postcode, city = {"rotterdam": ("3073 AB", "Rotterdam"), "zuid-limburg": ("6461 AB", "Kerkrade")}.get(
        region, ("3583 AB", "Utrecht")
    )
    base = RoutingFacts(
        birth_date=date(2005, 1, 1),
        pregnant=True,
        due_date=weeks(20),
        first_child=True,
        children_birth_dates=(),
        concerns=("stress", "debts"),
        safety_concern=False,
        postcode=postcode,
        city=city,
    )
    return replace(base, **kw)


def route(region: str, config: RegionConfig | None = None, **kw: Any) -> Recommendation:
    config = config or load_region(region)
    catalogue = [ProgrammeInfo(p.code, p.name, True) for p in config.programmes]
    return recommend(RulesRouter(), facts(region, **kw), catalogue, ON, frozenset(), config)


SECOND_CHILD = {"first_child": False, "children_birth_dates": (date(2022, 1, 1),)}
OLDER_CHILD = {"first_child": False, "children_birth_dates": (date(2018, 1, 1),)}
NOT_PREGNANT = {"pregnant": False, "due_date": None, "first_child": False}

CASES = [
    # region, facts, primary, additional
    ("rotterdam", {"concerns": ("stress", "debts", "housing_problem")}, "moeders-van-rotterdam", []),
    ("rotterdam", {}, "voorzorg", []),
    ("rotterdam", SECOND_CHILD, "stevig-ouderschap", []),
    ("rotterdam", {**SECOND_CHILD, "concerns": ("debts",), "due_date": weeks(30)}, "home-start", []),
    ("rotterdam", {**OLDER_CHILD, "concerns": ("debts",)}, "wijkteam", []),
    ("zuid-limburg", {}, "voorzorg", []),
    ("zuid-limburg", {"due_date": weeks(10)}, "voorzorg", ["centering-zwangerschap"]),
    ("zuid-limburg", {"due_date": weeks(16)}, "voorzorg", ["centering-zwangerschap"]),
    ("zuid-limburg", {"due_date": weeks(16, 1)}, "voorzorg", []),
    ("zuid-limburg", {**SECOND_CHILD, "concerns": ("stress", "debts", "housing_problem")}, "stevig-ouderschap", []),
    (
        "zuid-limburg",
        {**SECOND_CHILD, "concerns": ("no_maternity_care",), "due_date": weeks(30)},
        "kraamzorg-steun-op-maat",
        [],
    ),
    (
        "zuid-limburg",
        {**NOT_PREGNANT, "children_birth_dates": (ON - timedelta(days=60),), "concerns": ("no_baby_supplies",)},
        "kraamzorg-steun-op-maat",
        [],
    ),
    (
        "zuid-limburg",
        {**NOT_PREGNANT, "children_birth_dates": (ON - timedelta(days=150),), "concerns": ("no_baby_supplies",)},
        "wijkteam",
        [],
    ),
    ("zuid-limburg", {**SECOND_CHILD, "concerns": ("debts",), "due_date": weeks(30)}, "wijkteam", []),
    (
        "zuid-limburg",
        {**NOT_PREGNANT, "children_birth_dates": (date(2026, 5, 1),), "concerns": ("mental_health",)},
        "stevig-ouderschap",
        ["nu-niet-zwanger"],
    ),
    (
        "zuid-limburg",
        {**NOT_PREGNANT, "children_birth_dates": (date(2020, 5, 1),), "concerns": ("homeless",)},
        "wijkteam",
        ["nu-niet-zwanger"],
    ),
    ("zuid-limburg", {**SECOND_CHILD, "concerns": ("substance_use",), "due_date": weeks(30)}, "stevig-ouderschap", []),
    ("utrecht", {}, "voorzorg", []),
    ("utrecht", {"concerns": ("newcomer", "debts")}, "voorzorg", ["mamaatje"]),
    ("utrecht", SECOND_CHILD, "stevig-ouderschap", []),
    ("utrecht", {**SECOND_CHILD, "concerns": ("debts",)}, "buurtteam", []),
    ("utrecht", {**SECOND_CHILD, "concerns": ("language_barrier",)}, "buurtteam", ["mamaatje"]),
    (
        "utrecht",
        {**NOT_PREGNANT, "children_birth_dates": (ON - timedelta(days=700),), "concerns": ("social_isolation",)},
        "buurtteam",
        ["mamaatje"],
    ),
    (
        "utrecht",
        {**NOT_PREGNANT, "children_birth_dates": (date(2024, 11, 22),), "concerns": ("social_isolation",)},
        "buurtteam",
        [],
    ),
    ("utrecht", {**SECOND_CHILD, "concerns": ("debts",), "postcode": "3811 AB", "city": "Amersfoort"}, "buurtteam", []),
]


@pytest.mark.parametrize(("region", "change", "primary", "additional"), CASES)
def test_each_programme_of_each_region(region, change, primary, additional) -> None:
    result = route(region, **change)
    assert result.programme == primary, result.as_json()
    assert [a["programme"] for a in result.additional] == additional, result.as_json()
    assert all(a["reasons"] for a in result.additional)
    assert result.reasons, "a recommendation always says why"
    assert result.policy_version == 1
    if region != "rotterdam":
        assert "moeders-van-rotterdam" not in json.dumps(result.as_json())


def test_every_programme_of_every_region_is_reached_by_a_case() -> None:
    reached = {(region, p) for region, _, primary, extra in CASES for p in [primary, *extra]}
    for region in ("rotterdam", "zuid-limburg", "utrecht"):
        codes = {p.code for p in load_region(region).programmes}
        assert {p for r, p in reached if r == region} == codes, region


def test_additional_support_reasons() -> None:
    centering = route("zuid-limburg", due_date=weeks(12)).additional[0]
    assert centering["programme"] == "centering-zwangerschap"
    assert any("12+0 weeks pregnant ≤ 16+0" in r for r in centering["reasons"])
    mamaatje = route("utrecht", concerns=("newcomer", "debts")).additional[0]
    assert "concerns: newcomer" in mamaatje["reasons"] and "pregnant" in mamaatje["reasons"]
    # Not fitting, an additional support is listed under excluded with why.
    excluded = {e["programme"]: e["reasons"] for e in route("utrecht").excluded}
    assert excluded["mamaatje"] == ["none of the concerns newcomer, language_barrier, social_isolation"]


def test_the_catch_all_says_why_in_a_sentence() -> None:
    for region, programme in (("rotterdam", "wijkteam"), ("zuid-limburg", "wijkteam"), ("utrecht", "buurtteam")):
        result = route(region, **{**OLDER_CHILD, "concerns": ("debts",)}, due_date=weeks(10))
        assert result.programme == programme
        assert any(r.startswith("None of the programmes above fits now") for r in result.reasons), result.reasons


def test_outside_utrecht_and_amersfoort_no_buurtteam() -> None:
    result = route("utrecht", **{**SECOND_CHILD, "concerns": ("debts",)}, postcode="1011 AB", city="Amsterdam")
    assert result.programme is None
    excluded = {e["programme"]: e["reasons"] for e in result.excluded}
    assert excluded["buurtteam"] == ["does not live in Utrecht or Amersfoort"]


def test_safety_concern_in_a_new_region_gives_meldcode_and_the_first_fitting() -> None:
    result = route("zuid-limburg", safety_concern=True)
    assert result.advice == ["meldcode"] and result.programme == "voorzorg"
    assert result.reasons[0] == "safety concern: consult Veilig Thuis (meldcode)"


def test_a_rule_file_can_mark_a_programme_additional() -> None:
    rotterdam = load_region("rotterdam")
    raw = rotterdam.model_dump()
    for rule in raw["policy"]["routing"]["rules"]:
        if rule["programme"] == "home-start":
            rule["additional"] = True
    marked = RegionConfig.model_validate(raw)
    result = route("rotterdam", marked, **{**SECOND_CHILD, "due_date": weeks(30)})
    assert result.programme == "stevig-ouderschap"
    assert [a["programme"] for a in result.additional] == ["home-start"]
    assert route("rotterdam", **{**SECOND_CHILD, "due_date": weeks(30)}).additional == []
