"""The case's vocabularies (API.md "The case"): one StrEnum each, shared by the models, the
pure rules, the response models and the OpenAPI document."""

from __future__ import annotations

from enum import StrEnum


class InvolvementSource(StrEnum):
    """Where an involvement comes from: derived (`referral`, `handoff`) or recorded
    (`assessment`: a joint intake's participants; `staff`: by hand)."""

    REFERRAL = "referral"
    HANDOFF = "handoff"
    ASSESSMENT = "assessment"
    STAFF = "staff"


class TimelineType(StrEnum):
    RECEIVED = "received"
    CONTACT_ATTEMPT = "contact_attempt"
    ASSESSMENT = "assessment"
    ROUTING_RECOMMENDATION = "routing_recommendation"
    ROUTING_DECISION = "routing_decision"
    HANDOFF_OFFERED = "handoff_offered"
    HANDOFF_ACCEPTED = "handoff_accepted"
    HANDOFF_DECLINED = "handoff_declined"
    HANDOFF_REVOKED = "handoff_revoked"
    HANDOFF_FIRST_CONTACT = "handoff_first_contact"
    HANDOFF_SUPPORT_STARTED = "handoff_support_started"
    HANDOFF_ENDED = "handoff_ended"
    CONSENT_GIVEN = "consent_given"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    LEGAL_BASIS_CHANGED = "legal_basis_changed"
    FACTS_CORRECTED = "facts_corrected"
    COORDINATOR_CHANGED = "coordinator_changed"
    INVOLVEMENT_ADDED = "involvement_added"
    INVOLVEMENT_ENDED = "involvement_ended"
    CASE_MEETING = "case_meeting"
    AGREEMENT_DONE = "agreement_done"
    NOTE = "note"
    MERGED = "merged"
    CLOSED = "closed"
    REOPENED = "reopened"
    DEADLINE_BREACHED = "deadline_breached"


# A programme's view of the case file: its own handoff's entries, the involvements and the
# coordinator — never contacts, assessments, notes, routing or other programmes' handoffs.
HANDOFF_TYPES = frozenset(
    {
        TimelineType.HANDOFF_OFFERED,
        TimelineType.HANDOFF_ACCEPTED,
        TimelineType.HANDOFF_DECLINED,
        TimelineType.HANDOFF_REVOKED,
        TimelineType.HANDOFF_FIRST_CONTACT,
        TimelineType.HANDOFF_SUPPORT_STARTED,
        TimelineType.HANDOFF_ENDED,
    }
)
PROGRAMME_SHARED_TYPES = frozenset(
    {TimelineType.COORDINATOR_CHANGED, TimelineType.INVOLVEMENT_ADDED, TimelineType.INVOLVEMENT_ENDED}
)
