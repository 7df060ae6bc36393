"""One handoff's life as a pure state machine: (state, step) -> new state or refusal.

    offered ──accept──> accepted ──first_contact──> first_contact ──support_started──> support_started ──end──> ended
       │                   │
       └──decline──────────┴──> declined
    revoke: offered | accepted | first_contact | support_started ──> revoked

A decline is possible until the programme has made contact (an accepted offer can still turn
out not to fit); after first contact the programme either starts support or staff revoke.
Several handoffs of one intake each run their own machine; the intake's status is derived
from all of them (`intake_stage`). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from app.handoffs.states import LIVE, HandoffState
from app.vocab import EventType

__all__ = ["LIVE", "EndReason", "HandoffState", "HandoffStep", "RevokeReason", "Stage"]


class HandoffStep(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    FIRST_CONTACT = "first_contact"
    SUPPORT_STARTED = "support_started"
    END = "end"
    REVOKE = "revoke"


class EndReason(StrEnum):
    """Why a programme ended its support (`POST /handoffs/{id}/end`)."""

    COMPLETED = "completed"
    STOPPED_BY_CLIENT = "stopped_by_client"
    MOVED_AWAY = "moved_away"
    REFERRED_ON = "referred_on"
    OTHER = "other"


class RevokeReason(StrEnum):
    """Why the aanmeldpunt's side ended a handoff (sent with `handoff.revoked`)."""

    SHARE_WITHDRAWN = "share_withdrawn"  # `share_with_programme` (or `processing`) consent withdrawn
    INTAKE_CLOSED = "intake_closed"  # the intake was closed or merged into another


class Stage(StrEnum):
    """What the handoffs together say about the intake's status."""

    HANDED_OFF = "handed_off"  # a handoff is live, none has started support
    SUPPORT_STARTED = "support_started"  # at least one started support
    NONE = "none"  # nothing live and nothing started: the intake is back with the aanmeldpunt


H = HandoffState
FINAL = frozenset(set(H) - LIVE)

# step -> {from state: to state}; a state not listed refuses the step.
TRANSITIONS: dict[HandoffStep, dict[HandoffState, HandoffState]] = {
    HandoffStep.ACCEPT: {H.OFFERED: H.ACCEPTED},
    HandoffStep.DECLINE: {H.OFFERED: H.DECLINED, H.ACCEPTED: H.DECLINED},
    HandoffStep.FIRST_CONTACT: {H.ACCEPTED: H.FIRST_CONTACT},
    HandoffStep.SUPPORT_STARTED: {H.FIRST_CONTACT: H.SUPPORT_STARTED},
    HandoffStep.END: {H.SUPPORT_STARTED: H.ENDED},
    HandoffStep.REVOKE: {state: H.REVOKED for state in LIVE},
}

# The event each step emits (the offer's is `handoff.offered`). Starting support keeps the
# event of the first release's contract.
EVENTS: dict[HandoffStep, EventType] = {
    HandoffStep.ACCEPT: EventType.HANDOFF_ACCEPTED,
    HandoffStep.DECLINE: EventType.HANDOFF_DECLINED,
    HandoffStep.FIRST_CONTACT: EventType.HANDOFF_FIRST_CONTACT,
    HandoffStep.SUPPORT_STARTED: EventType.INTAKE_SUPPORT_STARTED,
    HandoffStep.END: EventType.HANDOFF_ENDED,
    HandoffStep.REVOKE: EventType.HANDOFF_REVOKED,
}


class IllegalHandoffStep(Exception):
    def __init__(self, state: str, step: HandoffStep) -> None:
        super().__init__(f"'{step.value}' is not possible while the handoff is '{state}'")
        self.state = state
        self.step = step


def next_state(state: str, step: HandoffStep) -> HandoffState:
    allowed = TRANSITIONS[step]
    current = HandoffState(state)
    if current not in allowed:
        raise IllegalHandoffStep(state, step)
    return allowed[current]


def is_live(state: str) -> bool:
    return HandoffState(state) in LIVE


class HandoffLike(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def support_started_at(self) -> datetime | None: ...


def intake_stage(handoffs: Iterable[HandoffLike]) -> Stage:
    """`support_started` once any handoff has started support (also after it ended or was
    revoked: support did start); else `handed_off` while any is live; else `none`."""
    handoffs = list(handoffs)
    if any(h.support_started_at is not None for h in handoffs):
        return Stage.SUPPORT_STARTED
    if any(is_live(h.status) for h in handoffs):
        return Stage.HANDED_OFF
    return Stage.NONE


def revocable(state: str, reason: RevokeReason) -> bool:
    """Does this revocation end a handoff in `state`?

    A withdrawn consent ends every live handoff at once, support started or not: the
    programme's read access ends with it. Closing the intake ends those not yet started; a
    started support stays on record as started (the closing event is the last it hears)."""
    if not is_live(state):
        return False
    return reason is RevokeReason.SHARE_WITHDRAWN or HandoffState(state) is not H.SUPPORT_STARTED
