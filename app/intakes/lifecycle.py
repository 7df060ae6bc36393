"""The intake lifecycle as a pure state machine: (status, action) -> new status or refusal.

Once handed off, the intake's status follows its handoffs (each with its own machine in
app.handoffs.lifecycle): `derive_status`."""

from __future__ import annotations

from enum import StrEnum

from app.handoffs.lifecycle import Stage
from app.vocab import CloseReason


class IntakeStatus(StrEnum):
    RECEIVED = "received"
    CONTACTED = "contacted"
    ASSESSED = "assessed"
    ROUTED = "routed"
    HANDED_OFF = "handed_off"
    SUPPORT_STARTED = "support_started"
    CLOSED = "closed"


Status = IntakeStatus  # the short name inside the intakes capability


class Step(StrEnum):
    CONTACT_REACHED = "contact_reached"
    CONTACT_ATTEMPT = "contact_attempt"
    ASSESS = "assess"
    RECOMMEND = "recommend"
    DECIDE = "decide"
    OFFER = "offer"
    CLOSE = "close"
    MERGE = "merge"
    RECORD_CONSENT = "record_consent"
    CORRECT_FACTS = "correct_facts"
    REOPEN = "reopen"


# What staff may give to `POST /intakes/{id}/close`; the others follow from another action.
STAFF_CLOSE_REASONS = tuple(r for r in CloseReason if r not in (CloseReason.CONSENT_WITHDRAWN, CloseReason.DUPLICATE))

S = Status
OPEN = frozenset(s for s in Status if s is not S.CLOSED)

# step -> {from status: to status}; a status not listed refuses the step.
TRANSITIONS: dict[Step, dict[Status, Status]] = {
    Step.CONTACT_REACHED: {S.RECEIVED: S.CONTACTED} | {s: s for s in OPEN if s is not S.RECEIVED},
    Step.CONTACT_ATTEMPT: {s: s for s in OPEN},
    Step.ASSESS: {S.RECEIVED: S.ASSESSED, S.CONTACTED: S.ASSESSED, S.ASSESSED: S.ASSESSED, S.ROUTED: S.ROUTED},
    Step.RECOMMEND: {s: s for s in (S.RECEIVED, S.CONTACTED, S.ASSESSED, S.ROUTED)},
    Step.DECIDE: {S.CONTACTED: S.ROUTED, S.ASSESSED: S.ROUTED, S.ROUTED: S.ROUTED},
    # Several supports at once: another programme may be offered while one is live or started.
    Step.OFFER: {S.ROUTED: S.HANDED_OFF, S.HANDED_OFF: S.HANDED_OFF, S.SUPPORT_STARTED: S.SUPPORT_STARTED},
    Step.CLOSE: {s: S.CLOSED for s in OPEN},
    Step.MERGE: {s: S.CLOSED for s in OPEN},
    Step.RECORD_CONSENT: {s: s for s in OPEN},
    Step.CORRECT_FACTS: {s: s for s in OPEN},
    # Aftercare: a closed intake is taken up again as one she is in contact with.
    Step.REOPEN: {S.CLOSED: S.CONTACTED},
}


class IllegalTransition(Exception):
    def __init__(self, status: str, step: Step) -> None:
        super().__init__(f"'{step.value}' is not possible while the intake is '{status}'")
        self.status = status
        self.step = step


def next_status(status: str, step: Step) -> Status:
    allowed = TRANSITIONS[step]
    current = Status(status)
    if current not in allowed:
        raise IllegalTransition(status, step)
    return allowed[current]


def derive_status(current: str, stage: Stage) -> Status:
    """The intake's status after a handoff changed: `support_started` once any handoff has
    started, `handed_off` while one is live and none started; with nothing live and nothing
    started the intake is back with the aanmeldpunt (`assessed`, to route again)."""
    status = Status(current)
    if status is S.CLOSED:
        return status
    if stage is Stage.SUPPORT_STARTED:
        return S.SUPPORT_STARTED
    if stage is Stage.HANDED_OFF:
        return S.HANDED_OFF
    return S.ASSESSED if status in (S.HANDED_OFF, S.SUPPORT_STARTED) else status
