"""`routing_codes` of app/jobs/retention.py directly: after erasure a stored recommendation
and decision keep their codes and shape, and lose every reason and free text."""

from __future__ import annotations

from app.jobs.retention import routing_codes


def test_only_codes_survive() -> None:
    stored = {
        "recommendation": {
            "programme": "moeders-van-rotterdam",
            "router": "rules",
            "rulesVersion": "2026-11",
            "vulnerability": "vulnerable",
            "reasons": ["pregnant 16+3 weeks", "aged 19"],
            "alternatives": [{"programme": "wijkteam", "reasons": ["lives in Rotterdam"]}],
            "excluded": [{"programme": "nu-niet-zwanger", "reasons": ["pregnant"]}, "garbage"],
            "advice": ["Call before 12:00", 7],
            "policyVersion": 3,
        },
        "recommendedAt": "2026-11-24T09:00:00Z",
        "decision": {"programme": "wijkteam", "override": True, "reason": "She asked", "by": "k.bakker"},
    }
    assert routing_codes(stored) == {
        "recommendation": {
            "programme": "moeders-van-rotterdam",
            "router": "rules",
            "rulesVersion": "2026-11",
            "vulnerability": "vulnerable",
            "reasons": [],
            "alternatives": [{"programme": "wijkteam", "reasons": []}],
            "excluded": [{"programme": "nu-niet-zwanger", "reasons": []}],
            "advice": ["Call before 12:00"],
        },
        "decision": {"programme": "wijkteam", "override": True},
    }


def test_nothing_stored_stays_nothing() -> None:
    assert routing_codes(None) is None
    assert routing_codes({}) == {}
    assert routing_codes({"recommendation": None, "decision": None}) == {"recommendation": None, "decision": None}
