"""The one consent rule, pure: may this happen under these consents and this basis?

Used at every place data leaves the aanmeldpunt: the referrer's view, the programme's
read access, handoffs, webhook fan-out and delivery, exports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class ConsentScope(StrEnum):
    PROCESSING = "processing"
    SHARE_WITH_PROGRAMME = "share_with_programme"
    FEEDBACK_TO_REFERRER = "feedback_to_referrer"
    RESEARCH = "research"


Scope = ConsentScope  # the short name inside the consent capability


class ConsentMethod(StrEnum):
    """How consent was obtained."""

    VERBAL = "verbal"
    WRITTEN = "written"
    DIGITAL = "digital"


class Action(StrEnum):
    PROCESS = "process"  # staff work the intake
    REFERRER_FEEDBACK = "referrer_feedback"  # the referrer sees more than "received"
    PROGRAMME_READ = "programme_read"  # the offered organisation reads the intake
    HANDOFF = "handoff"  # offer the intake to a programme
    EXPORT_RESEARCH = "export_research"


class LegalBasis(StrEnum):
    """What an intake is processed on: consent, or the meldcode (meldrecht)."""

    CONSENT = "consent"
    MELDCODE = "meldcode"


Basis = LegalBasis


# What each action needs, and whether the meldcode (meldrecht, art. 5.2.6 Wmo 2015) may
# stand in for consent. Feedback to the referrer and research never go without consent.
NEEDS: dict[Action, tuple[Scope, bool]] = {
    Action.PROCESS: (Scope.PROCESSING, True),
    Action.REFERRER_FEEDBACK: (Scope.FEEDBACK_TO_REFERRER, False),
    Action.PROGRAMME_READ: (Scope.SHARE_WITH_PROGRAMME, True),
    Action.HANDOFF: (Scope.SHARE_WITH_PROGRAMME, True),
    Action.EXPORT_RESEARCH: (Scope.RESEARCH, False),
}


class ConsentLike(Protocol):
    @property
    def scope(self) -> str: ...
    @property
    def given(self) -> bool: ...
    @property
    def recorded_at(self) -> datetime: ...


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str  # the consent scope or "meldcode" that allows it
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


def standing_scopes(records: Iterable[ConsentLike]) -> set[str]:
    """Fold the append-only history in order: the last record of a scope decides."""
    latest: dict[str, bool] = {}
    for record in sorted(records, key=lambda r: r.recorded_at):
        latest[record.scope] = record.given
    return {scope for scope, given in latest.items() if given}


def decide(records: Iterable[ConsentLike], action: Action, basis: str) -> Decision:
    scope, meldcode_allows = NEEDS[action]
    if scope.value in standing_scopes(records):
        return Decision(True, scope.value)
    if basis == Basis.MELDCODE and meldcode_allows:
        return Decision(True, Basis.MELDCODE.value)
    return Decision(False, scope.value, f"no standing '{scope.value}' consent")


class LegalBasisStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


class LegalBasisSource(StrEnum):
    STAFF = "staff"  # recorded by one staff user, confirmed by another (four eyes)
    REFERRAL = "referral"  # the referrer's own meldcode referral: its professional's decision


@dataclass(frozen=True)
class Person:
    """Who acts: the token's `sub` (our client id, or the IdP's subject) and its `user`."""

    sub: str
    user: str | None


def same_person(a: Person, b: Person) -> bool:
    """Two actors are the same person unless their `sub` or their `user` differs (API.md)."""
    return a.sub == b.sub and a.user == b.user


def confirm_refusal(status: str, requested_by: Person, confirming: Person) -> str | None:
    """Four eyes: why this confirmation may not happen, or None when it may."""
    if status != LegalBasisStatus.PENDING:
        return "already-confirmed"
    if same_person(requested_by, confirming):
        return "four-eyes"
    return None
