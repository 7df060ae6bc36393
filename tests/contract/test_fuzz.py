"""A bounded, seeded Schemathesis run as every role against a real server process."""

from __future__ import annotations

from tests.support.fuzz import ROLES, run


def test_schemathesis_finds_nothing(database_url: str) -> None:
    results = run(database_url, max_examples=8, seed=20261122)
    assert results == dict.fromkeys(ROLES, 0)
