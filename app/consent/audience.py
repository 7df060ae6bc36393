"""Who may see what of an intake: one pure rule per audience.

The same functions decide when an intake is read (`GET /intakes/{id}`, a handoff), when an
event is fanned out to webhook subscriptions, when a queued delivery is about to be sent,
and when an administrator replays events. Nothing here does I/O.

Audiences:
- the aanmeldpunt (staff, its own subscriptions): everything of its region;
- a programme (an organisation with a live handoff): only while that handoff is live, the
  intake is open, and `share_with_programme` consent (or the meldcode basis) stands;
- the referrer (the organisation that made the referral, and the referrer of every referral
  merged into this case): only the steps of her way to support (`REFERRER_EVENTS`), only while
  `feedback_to_referrer` consent stands — the meldcode never stands in for that;
- an organisation that just lost access hears once that it did (a *notice*: ids only).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.consent.rules import Action, ConsentLike, decide
from app.vocab import EventType, OrganisationKind

# Events that tell an organisation its own access ended. Sent to that organisation even
# though it may no longer read the intake, because it must stop working on it; they carry
# ids only. Marked per delivery at fan-out (`notice`), so nobody else gets them that way.
NOTICES = frozenset(
    {EventType.HANDOFF_REVOKED, EventType.HANDOFF_DECLINED, EventType.HANDOFF_ENDED, EventType.CONSENT_WITHDRAWN}
)
# The aanmeldpunt's own working events: the meldcode's four eyes and the case work (notes,
# meetings, agreements, involvements) go to its own subscriptions only — at fan-out, at
# delivery and at replay. Programmes read involvements with their own token instead.
AANMELDPUNT_ONLY = frozenset(
    {
        EventType.INTAKE_LEGAL_BASIS_REQUESTED,
        EventType.INTAKE_LEGAL_BASIS_CHANGED,
        EventType.INTAKE_INVOLVEMENT_ADDED,
        EventType.INTAKE_INVOLVEMENT_ENDED,
        EventType.INTAKE_CASE_MEETING_RECORDED,
        EventType.INTAKE_NOTE_ADDED,
        EventType.AGREEMENT_DONE,
        EventType.AGREEMENT_OVERDUE,
    }
)
# The event that closes the intake still reaches a programme whose handoff is live at that
# moment (support started): it is the last thing it hears.
CLOSING = EventType.INTAKE_CLOSED
# What a referrer hears: the steps its referrer's view shows (API.md, the referrer's loop).
# Not the aanmeldpunt's internal work — deadlines, declined or revoked offers (the view does
# not list them), consents of other scopes, the legal basis, case meetings and agreements.
REFERRER_EVENTS = frozenset(
    {
        EventType.INTAKE_RECEIVED,
        EventType.INTAKE_CONTACTED,
        EventType.INTAKE_ASSESSED,
        EventType.INTAKE_ROUTED,
        EventType.HANDOFF_OFFERED,
        EventType.HANDOFF_ACCEPTED,
        EventType.HANDOFF_FIRST_CONTACT,
        EventType.INTAKE_SUPPORT_STARTED,
        EventType.HANDOFF_ENDED,
        EventType.INTAKE_CLOSED,
        EventType.INTAKE_REOPENED,
        EventType.INTAKE_COORDINATOR_CHANGED,
    }
)


class Party(StrEnum):
    AANMELDPUNT = "aanmeldpunt"
    PROGRAMME = "programme"
    REFERRER = "referrer"
    NONE = "none"


@dataclass(frozen=True)
class Audience:
    """The facts of one intake that decide who may hear about it or read it."""

    referrer_organisation_id: uuid.UUID | None
    legal_basis: str
    consents: Sequence[ConsentLike]
    handoff_organisations: frozenset[uuid.UUID]  # with a live handoff (not declined, revoked or ended)
    extra_organisations: frozenset[uuid.UUID] = frozenset()  # get this event as a notice of their lost access
    closed: bool = False
    # Referrers of referrals merged into this case: they follow it as its own referrer does.
    merged_referrers: frozenset[uuid.UUID] = frozenset()

    def is_referrer(self, organisation_id: uuid.UUID) -> bool:
        return organisation_id == self.referrer_organisation_id or organisation_id in self.merged_referrers


def programme_may_read(audience: Audience, organisation_id: uuid.UUID) -> bool:
    """A programme reads an intake only while its handoff is live, the intake is open and
    sharing with programmes is allowed (consent, or the confirmed meldcode basis)."""
    return (
        not audience.closed
        and organisation_id in audience.handoff_organisations
        and bool(decide(audience.consents, Action.PROGRAMME_READ, audience.legal_basis))
    )


def referrer_may_follow(audience: Audience) -> bool:
    """The referrer sees more than 'received' only while `feedback_to_referrer` stands."""
    return bool(decide(audience.consents, Action.REFERRER_FEEDBACK, audience.legal_basis))


def party_of(kind: str, organisation_id: uuid.UUID, audience: Audience) -> Party:
    if kind == OrganisationKind.AANMELDPUNT:
        return Party.AANMELDPUNT
    if organisation_id in audience.handoff_organisations:
        return Party.PROGRAMME
    if audience.is_referrer(organisation_id):
        return Party.REFERRER
    return Party.NONE


def may_hear(
    event_type: str | None,
    kind: str,
    organisation_id: uuid.UUID,
    audience: Audience | None,
    *,
    notice: bool = False,
) -> bool:
    """May this organisation's subscription receive this event of this intake now?

    Called at fan-out (then `notice` is whether it is in `extra_organisations`) and again
    at delivery with the intake's facts as they are then (and the delivery's `notice` mark).
    `audience` is None for events without an intake: those go to the aanmeldpunt only."""
    if kind == OrganisationKind.AANMELDPUNT:
        return True
    if audience is None or event_type in AANMELDPUNT_ONLY:
        return False
    if notice and event_type in NOTICES:
        return True
    if organisation_id in audience.handoff_organisations and programme_may_read(
        Audience(
            audience.referrer_organisation_id,
            audience.legal_basis,
            audience.consents,
            audience.handoff_organisations,
            closed=audience.closed and event_type != CLOSING,
        ),
        organisation_id,
    ):
        return True
    if audience.is_referrer(organisation_id):
        return (event_type is None or event_type in REFERRER_EVENTS) and referrer_may_follow(audience)
    return False


def is_notice(event_type: str, organisation_id: uuid.UUID, audience: Audience | None) -> bool:
    """At fan-out: does this organisation get the event as a notice of its own lost access?"""
    return audience is not None and event_type in NOTICES and organisation_id in audience.extra_organisations
