"""The intake state machine, a pure function: every (status, step) pair, legal or not."""

from __future__ import annotations

import pytest

from app.intakes.lifecycle import OPEN, TRANSITIONS, IllegalTransition, Status, Step, next_status

S = Status

LEGAL = [
    (S.RECEIVED, Step.CONTACT_REACHED, S.CONTACTED),
    (S.CONTACTED, Step.CONTACT_REACHED, S.CONTACTED),
    (S.RECEIVED, Step.CONTACT_ATTEMPT, S.RECEIVED),
    (S.RECEIVED, Step.ASSESS, S.ASSESSED),
    (S.CONTACTED, Step.ASSESS, S.ASSESSED),
    (S.ROUTED, Step.ASSESS, S.ROUTED),
    (S.RECEIVED, Step.RECOMMEND, S.RECEIVED),
    (S.ASSESSED, Step.DECIDE, S.ROUTED),
    (S.CONTACTED, Step.DECIDE, S.ROUTED),
    (S.ROUTED, Step.OFFER, S.HANDED_OFF),
    (S.HANDED_OFF, Step.OFFER, S.HANDED_OFF),  # several supports at once
    (S.SUPPORT_STARTED, Step.OFFER, S.SUPPORT_STARTED),
    (S.SUPPORT_STARTED, Step.CLOSE, S.CLOSED),
    (S.RECEIVED, Step.MERGE, S.CLOSED),
    (S.CLOSED, Step.REOPEN, S.CONTACTED),  # aftercare
]


@pytest.mark.parametrize(("status", "step", "after"), LEGAL)
def test_legal_steps(status, step, after):
    assert next_status(status, step) is after


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (S.RECEIVED, Step.DECIDE),  # no decision before any contact
        (S.RECEIVED, Step.OFFER),
        (S.ASSESSED, Step.OFFER),  # an offer needs a decision
        (S.CLOSED, Step.CONTACT_REACHED),
        (S.CLOSED, Step.CLOSE),
        (S.CLOSED, Step.ASSESS),
        (S.SUPPORT_STARTED, Step.DECIDE),
    ],
)
def test_illegal_steps_are_refused_with_the_reason(status, step):
    with pytest.raises(IllegalTransition) as refused:
        next_status(status, step)
    assert step.value in str(refused.value) and status.value in str(refused.value)


def test_the_table_is_complete_and_closed_is_final_but_for_reopening():
    assert set(TRANSITIONS) == set(Step)
    for step, moves in TRANSITIONS.items():
        if step is Step.REOPEN:
            continue
        assert S.CLOSED not in moves, f"{step} from closed"
        assert set(moves) <= OPEN
        assert all(isinstance(to, Status) for to in moves.values())


def test_reopen_only_from_closed_to_contacted():
    assert TRANSITIONS[Step.REOPEN] == {S.CLOSED: S.CONTACTED}
    assert next_status("closed", Step.REOPEN) is S.CONTACTED


@pytest.mark.parametrize("status", sorted(OPEN))
def test_reopen_of_an_open_intake_is_refused(status):
    with pytest.raises(IllegalTransition) as refused:
        next_status(status, Step.REOPEN)
    assert "reopen" in str(refused.value) and status.value in str(refused.value)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("step", list(Step))
def test_every_pair_either_moves_to_a_status_or_is_refused(status, step):
    try:
        assert next_status(status, step) in Status
    except IllegalTransition:
        assert status not in TRANSITIONS[step]
