"""One handoff's state machine, a pure function: EVERY (state, step) pair, legal or not,
written out by hand (not derived from the table under test), and the intake's status
derived from several handoffs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from app.handoffs.lifecycle import (
    EVENTS,
    LIVE,
    TRANSITIONS,
    EndReason,
    HandoffState,
    HandoffStep,
    IllegalHandoffStep,
    RevokeReason,
    Stage,
    intake_stage,
    is_live,
    next_state,
    revocable,
)
from app.intakes.lifecycle import Status, derive_status

H = HandoffState
St = HandoffStep
_ = None  # refused

# Rows: state; columns: accept, decline, first_contact, support_started, end, revoke.
COLUMNS = (St.ACCEPT, St.DECLINE, St.FIRST_CONTACT, St.SUPPORT_STARTED, St.END, St.REVOKE)
TABLE: dict[HandoffState, tuple[HandoffState | None, ...]] = {
    H.OFFERED: (H.ACCEPTED, H.DECLINED, _, _, _, H.REVOKED),
    H.ACCEPTED: (_, H.DECLINED, H.FIRST_CONTACT, _, _, H.REVOKED),
    H.FIRST_CONTACT: (_, _, _, H.SUPPORT_STARTED, _, H.REVOKED),
    H.SUPPORT_STARTED: (_, _, _, _, H.ENDED, H.REVOKED),
    H.DECLINED: (_, _, _, _, _, _),
    H.ENDED: (_, _, _, _, _, _),
    H.REVOKED: (_, _, _, _, _, _),
}
PAIRS = [(state, step, row[i]) for state, row in TABLE.items() for i, step in enumerate(COLUMNS)]
LEGAL = [(state, step, after) for state, step, after in PAIRS if after is not None]
ILLEGAL = [(state, step) for state, step, after in PAIRS if after is None]


def test_the_table_above_covers_every_pair() -> None:
    assert set(TABLE) == set(HandoffState) and set(COLUMNS) == set(HandoffStep)
    assert len(PAIRS) == len(HandoffState) * len(HandoffStep) == 42
    assert len(LEGAL) == 10 and len(ILLEGAL) == 32


@pytest.mark.parametrize(("state", "step", "after"), LEGAL)
def test_legal_steps(state: HandoffState, step: HandoffStep, after: HandoffState) -> None:
    assert next_state(state, step) is after
    assert next_state(state.value, step) is after  # the stored string works the same


@pytest.mark.parametrize(("state", "step"), ILLEGAL)
def test_illegal_steps_are_refused_with_the_reason(state: HandoffState, step: HandoffStep) -> None:
    with pytest.raises(IllegalHandoffStep) as refused:
        next_state(state, step)
    assert refused.value.state == state and refused.value.step is step
    assert f"'{step.value}'" in str(refused.value) and f"'{state.value}'" in str(refused.value)


def test_the_machine_matches_the_contract_picture() -> None:
    # offered → accepted | declined → first_contact → support_started → ended; revoked from any live state.
    assert set(TRANSITIONS[St.REVOKE]) == LIVE == {H.OFFERED, H.ACCEPTED, H.FIRST_CONTACT, H.SUPPORT_STARTED}
    final = set(HandoffState) - LIVE
    assert final == {H.DECLINED, H.ENDED, H.REVOKED}
    for moves in TRANSITIONS.values():
        assert not (set(moves) & final), "nothing leaves a final state"
    assert all(is_live(s) is (s in LIVE) for s in HandoffState)


def test_vocabularies_and_events() -> None:
    assert [r.value for r in EndReason] == ["completed", "stopped_by_client", "moved_away", "referred_on", "other"]
    assert EVENTS == {
        St.ACCEPT: "handoff.accepted",
        St.DECLINE: "handoff.declined",
        St.FIRST_CONTACT: "handoff.first_contact",
        St.SUPPORT_STARTED: "intake.support_started",
        St.END: "handoff.ended",
        St.REVOKE: "handoff.revoked",
    }


@pytest.mark.parametrize(
    ("state", "share_withdrawn", "intake_closed"),
    [
        (H.OFFERED, True, True),
        (H.ACCEPTED, True, True),
        (H.FIRST_CONTACT, True, True),
        (H.SUPPORT_STARTED, True, False),  # a started support stays on record when the intake closes
        (H.DECLINED, False, False),
        (H.ENDED, False, False),
        (H.REVOKED, False, False),
    ],
)
def test_what_a_revocation_ends(state: HandoffState, share_withdrawn: bool, intake_closed: bool) -> None:
    assert revocable(state, RevokeReason.SHARE_WITHDRAWN) is share_withdrawn
    assert revocable(state, RevokeReason.INTAKE_CLOSED) is intake_closed


@dataclass
class Fake:
    status: str
    support_started_at: datetime | None = None


T = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("handoffs", "stage"),
    [
        ([], Stage.NONE),
        ([Fake(H.OFFERED)], Stage.HANDED_OFF),
        ([Fake(H.DECLINED), Fake(H.ACCEPTED)], Stage.HANDED_OFF),  # one declined, the other goes on
        ([Fake(H.DECLINED), Fake(H.REVOKED)], Stage.NONE),
        ([Fake(H.FIRST_CONTACT), Fake(H.SUPPORT_STARTED, T)], Stage.SUPPORT_STARTED),
        ([Fake(H.ENDED, T)], Stage.SUPPORT_STARTED),  # support did start
        ([Fake(H.REVOKED, T), Fake(H.DECLINED)], Stage.SUPPORT_STARTED),
    ],
)
def test_the_stage_of_several_handoffs(handoffs: list[Fake], stage: Stage) -> None:
    assert intake_stage(handoffs) is stage


@pytest.mark.parametrize(
    ("current", "stage", "after"),
    [
        (Status.ROUTED, Stage.HANDED_OFF, Status.HANDED_OFF),
        (Status.HANDED_OFF, Stage.HANDED_OFF, Status.HANDED_OFF),
        (Status.HANDED_OFF, Stage.SUPPORT_STARTED, Status.SUPPORT_STARTED),
        (Status.SUPPORT_STARTED, Stage.SUPPORT_STARTED, Status.SUPPORT_STARTED),
        (Status.HANDED_OFF, Stage.NONE, Status.ASSESSED),  # the last live one declined: back to routing
        (Status.ROUTED, Stage.NONE, Status.ROUTED),
        (Status.CLOSED, Stage.HANDED_OFF, Status.CLOSED),
        (Status.CLOSED, Stage.NONE, Status.CLOSED),
    ],
)
def test_the_intake_status_derives_from_its_handoffs(current: Status, stage: Stage, after: Status) -> None:
    assert derive_status(current, stage) is after
