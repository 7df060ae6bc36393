"""Pure decisions of the case (no I/O; unit-tested directly): who may set the coordinator,
which involvements follow from the referral and the handoffs, when an agreement is overdue,
what of the case file a programme sees, and how the case file is ordered and paged."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from app.cases.vocab import (
    HANDOFF_TYPES,
    PROGRAMME_SHARED_TYPES,
    InvolvementSource,
    TimelineType,
)
from app.handoffs.states import LIVE, HandoffState
from app.vocab import InvolvementRole, OrganisationKind

T = TypeVar("T")

# Handoff states (app.handoffs.states): live ones, and those in which the programme has accepted her.
LIVE_HANDOFF_STATES = LIVE
ACCEPTED_HANDOFF_STATES = LIVE - {HandoffState.OFFERED}

# The referral's roles mapped onto the involvement roles of API.md.
REFERRER_ROLE = {
    "midwife": InvolvementRole.MIDWIFE,
    "gp": InvolvementRole.GP,
    "gynaecologist": InvolvementRole.GYNAECOLOGIST,
    "hospital": InvolvementRole.GYNAECOLOGIST,
    "jgz": InvolvementRole.JGZ,
    "kraamzorg": InvolvementRole.KRAAMZORG,
    "wijkteam": InvolvementRole.WIJKTEAM,
}

# Stable ids for derived involvements, so a client can tell them apart between reads.
_DERIVED = uuid.UUID("6f1c8a52-3b0e-4f0e-9a53-0c5a8e1d2b71")


class CoordinatorRight(StrEnum):
    STAFF = "staff"  # the aanmeldpunt sets or changes the coordinator
    TAKE_OVER = "take_over"  # the organisation of an accepted handoff takes coordination over
    NOT_ACCEPTED = "not_accepted"  # a programme whose handoff is only offered: accept first


def coordinator_right(is_staff: bool, own_handoff_states: Iterable[str]) -> CoordinatorRight:
    """Called only for a caller that may see the intake (staff, or a programme with a live handoff)."""
    if is_staff:
        return CoordinatorRight.STAFF
    if any(state in ACCEPTED_HANDOFF_STATES for state in own_handoff_states):
        return CoordinatorRight.TAKE_OVER
    return CoordinatorRight.NOT_ACCEPTED


@dataclass(frozen=True)
class ReferrerFacts:
    """One referral of this case (its own, or one merged into it)."""

    intake_id: uuid.UUID
    received_at: datetime
    organisation: str | None
    organisation_name: str | None
    referrer: dict[str, Any] | None  # the referral's `referrer` block (name, role, phone, email)
    until: datetime | None = None  # the case closed


@dataclass(frozen=True)
class HandoffFacts:
    id: uuid.UUID
    programme: str
    programme_name: str | None
    organisation: str
    organisation_kind: str
    status: str
    offered_at: datetime
    support_started_at: datetime | None
    ended_at: datetime | None  # declined, revoked or ended


@dataclass(frozen=True)
class InvolvementItem:
    id: uuid.UUID
    role: InvolvementRole
    source: InvolvementSource
    organisation: str | None
    organisation_name: str | None
    professional_name: str | None
    phone: str | None
    email: str | None
    since: datetime
    until: datetime | None


def derived_id(source: InvolvementSource, of: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_DERIVED, f"{source.value}:{of}")


def derive_involvements(referrals: Sequence[ReferrerFacts], handoffs: Sequence[HandoffFacts]) -> list[InvolvementItem]:
    """Each referrer (merged referrals included) and each live or started handoff."""
    items = []
    for r in referrals:
        if r.organisation is None and r.referrer is None:
            continue  # a self-registration has no referrer
        block = r.referrer or {}
        items.append(
            InvolvementItem(
                id=derived_id(InvolvementSource.REFERRAL, r.intake_id),
                role=REFERRER_ROLE.get(str(block.get("role")), InvolvementRole.OTHER),
                source=InvolvementSource.REFERRAL,
                organisation=r.organisation,
                organisation_name=r.organisation_name,
                professional_name=block.get("professionalName"),
                phone=block.get("phone"),
                email=block.get("email"),
                since=r.received_at,
                until=r.until,
            )
        )
    for h in handoffs:
        if h.status not in LIVE_HANDOFF_STATES and h.support_started_at is None:
            continue  # declined or revoked before support started: she never had this support
        items.append(
            InvolvementItem(
                id=derived_id(InvolvementSource.HANDOFF, h.id),
                role=InvolvementRole.WIJKTEAM
                if h.organisation_kind == OrganisationKind.WIJKTEAM
                else InvolvementRole.PROGRAMME,
                source=InvolvementSource.HANDOFF,
                organisation=h.organisation,
                organisation_name=h.programme_name,
                professional_name=None,
                phone=None,
                email=None,
                since=h.offered_at,
                until=None if h.status in LIVE_HANDOFF_STATES else h.ended_at,
            )
        )
    return items


def involvement_may_end(source: InvolvementSource, until: datetime | None) -> bool:
    """Recorded involvements end by hand, once; derived ones end with their referral or handoff."""
    return source in (InvolvementSource.STAFF, InvolvementSource.ASSESSMENT) and until is None


def agreement_overdue(due_date: date, done: bool, today: date) -> bool:
    """Past its date: the due date is the last day to do it (Europe/Amsterdam)."""
    return not done and due_date < today


@dataclass(frozen=True)
class Actor:
    organisation: str | None
    client: str | None
    user: str | None = None


@dataclass(frozen=True)
class Entry:
    """One line of the case file. `key` makes the order total and the cursor exact;
    `handoff_organisation` names the organisation whose handoff the entry is about."""

    at: datetime
    type: TimelineType
    actor: Actor
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    handoff_organisation: uuid.UUID | None = None


def programme_sees(entry: Entry, organisation_id: uuid.UUID) -> bool:
    """A programme with a live handoff sees its own handoff's entries, the involvements and
    the coordinator — nothing else staff recorded, and nothing of other programmes."""
    if entry.type in HANDOFF_TYPES:
        return entry.handoff_organisation == organisation_id
    return entry.type in PROGRAMME_SHARED_TYPES


def ordered(entries: Iterable[Entry]) -> list[Entry]:
    """Oldest first; entries at the same moment keep a stable order by key."""
    return sorted(entries, key=lambda e: (e.at, e.key))


def after(
    items: Sequence[T], key: Callable[[T], tuple[datetime, str]], position: tuple[datetime, str] | None
) -> list[T]:
    """The items (ordered by `key`) after a cursor position (exclusive); all without one."""
    return [i for i in items if position is None or key(i) > position]
