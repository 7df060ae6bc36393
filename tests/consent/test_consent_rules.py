"""The one consent rule (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.consent.rules import Action, decide, standing_scopes

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Rec:
    scope: str
    given: bool
    recorded_at: datetime


def test_withdrawal_is_the_last_word():
    history = [
        Rec("processing", True, T0),
        Rec("share_with_programme", True, T0),
        Rec("share_with_programme", False, T0 + timedelta(days=1)),
    ]
    assert standing_scopes(history) == {"processing"}
    assert not decide(history, Action.PROGRAMME_READ, "consent")
    assert decide(history, Action.PROCESS, "consent").basis == "processing"


def test_meldcode_stands_in_for_sharing_but_not_feedback_or_research():
    assert decide([], Action.HANDOFF, "meldcode").basis == "meldcode"
    assert decide([], Action.PROGRAMME_READ, "meldcode")
    assert not decide([], Action.REFERRER_FEEDBACK, "meldcode")
    assert not decide([], Action.EXPORT_RESEARCH, "meldcode")
    refused = decide([], Action.HANDOFF, "consent")
    assert not refused and refused.reason == "no standing 'share_with_programme' consent"
