"""Vocabularies that belong to several capabilities, each defined once, pure (no imports
from app). A vocabulary that one capability owns lives in that capability instead:

- intake status, lifecycle step: `app.intakes.lifecycle`
- contact channel, contact preference, visit location: `app.intakes.vocab`
- handoff state: `app.handoffs.states`
- involvement source, case timeline entry type: `app.cases.vocab`
- consent scope, consent method, legal basis: `app.consent.rules`
- deadline phase and state: `app.deadlines.policy`; deadline situation: `app.regions.config`

A `StrEnum` member *is* its wire value (`EventType.INTAKE_CLOSED == "intake.closed"`), so
members go into JSON, SQL and comparisons with stored strings as they are. As a pydantic
field type it becomes a named `enum` component in the OpenAPI document.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """Outbox events (webhooks): who emits them is the capability in the name."""

    INTAKE_RECEIVED = "intake.received"
    INTAKE_CONTACTED = "intake.contacted"
    INTAKE_ASSESSED = "intake.assessed"
    INTAKE_ROUTED = "intake.routed"
    HANDOFF_OFFERED = "handoff.offered"
    HANDOFF_ACCEPTED = "handoff.accepted"
    HANDOFF_DECLINED = "handoff.declined"
    HANDOFF_REVOKED = "handoff.revoked"
    INTAKE_SUPPORT_STARTED = "intake.support_started"
    INTAKE_CLOSED = "intake.closed"
    DEADLINE_APPROACHING = "deadline.approaching"
    DEADLINE_BREACHED = "deadline.breached"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    ENDPOINT_DISABLED = "endpoint.disabled"
    INTAKE_LEGAL_BASIS_REQUESTED = "intake.legal_basis_requested"
    INTAKE_LEGAL_BASIS_CHANGED = "intake.legal_basis_changed"
    # Second wave (API.md): handoffs' own states, coordination, aftercare.
    HANDOFF_FIRST_CONTACT = "handoff.first_contact"
    HANDOFF_ENDED = "handoff.ended"
    INTAKE_COORDINATOR_CHANGED = "intake.coordinator_changed"
    INTAKE_REOPENED = "intake.reopened"
    # The case's working events (app.cases): the aanmeldpunt's subscriptions only.
    INTAKE_INVOLVEMENT_ADDED = "intake.involvement_added"
    INTAKE_INVOLVEMENT_ENDED = "intake.involvement_ended"
    INTAKE_CASE_MEETING_RECORDED = "intake.case_meeting_recorded"
    INTAKE_NOTE_ADDED = "intake.note_added"
    AGREEMENT_DONE = "agreement.done"
    AGREEMENT_OVERDUE = "agreement.overdue"


class OAuthScope(StrEnum):
    REFERRALS_WRITE = "referrals:write"
    REFERRALS_READ = "referrals:read"
    INTAKES_READ = "intakes:read"
    INTAKES_WRITE = "intakes:write"
    HANDOFFS_WRITE = "handoffs:write"
    ADMIN = "admin"
    STATISTICS_READ = "statistics:read"
    RESEARCH_EXPORT = "research:export"


class OrganisationKind(StrEnum):
    REFERRER = "referrer"
    PROGRAMME = "programme"
    WIJKTEAM = "wijkteam"
    AANMELDPUNT = "aanmeldpunt"


class VulnerabilityLevel(StrEnum):
    """DOMAIN.md, in rising order (`app.routing.vulnerability.at_least` compares by this order)."""

    POTENTIALLY_VULNERABLE = "potentially_vulnerable"
    VULNERABLE = "vulnerable"
    VERY_VULNERABLE = "very_vulnerable"


# Concern codes by life domain (DOMAIN.md): intakes record them, regions' routing rules and
# statistics name them. The vulnerability rule over them is app.routing.vulnerability.
DOMAINS: dict[str, tuple[str, ...]] = {
    "finances": ("insufficient_income", "debts", "no_baby_supplies"),
    "housing": ("housing_problem", "homeless"),
    "work_education": ("low_education", "no_daytime_activity"),
    "relationships": ("relationship_problems", "domestic_violence"),
    "mental_health": ("stress", "mental_health"),
    "substance_use": ("substance_use",),
    "physical_health": ("physical_health", "late_prenatal_care"),
    "social_network": ("social_isolation",),
    "participation": ("language_barrier", "newcomer", "no_health_insurance"),
    "cognition": ("intellectual_disability",),
    "justice": ("justice",),
    "parenting": ("parenting_concerns", "no_maternity_care"),
}
DOMAIN_OF = {code: domain for domain, codes in DOMAINS.items() for code in codes}
ConcernCode = StrEnum("ConcernCode", {code: code for code in DOMAIN_OF})  # type: ignore[misc]


class IntakeSource(StrEnum):
    """How an intake came in (`source` of an intake, the worklist filter, statistics)."""

    REFERRAL = "referral"
    SELF_REGISTRATION = "self_registration"


class ConcernSource(StrEnum):
    """Who named a concern: the referrer, the woman herself, or staff at the assessment."""

    REFERRAL = "referral"
    SELF = "self"
    ASSESSMENT = "assessment"


class ReferrerRole(StrEnum):
    MIDWIFE = "midwife"
    GP = "gp"
    GYNAECOLOGIST = "gynaecologist"
    HOSPITAL = "hospital"
    JGZ = "jgz"
    KRAAMZORG = "kraamzorg"
    WIJKTEAM = "wijkteam"
    COMMUNITY_ORGANISATION = "community_organisation"
    OTHER = "other"


class CloseReason(StrEnum):
    SUPPORT_STARTED = "support_started"
    DECLINED_BY_CLIENT = "declined_by_client"
    UNREACHABLE = "unreachable"
    MOVED_AWAY = "moved_away"
    NO_SUPPORT_NEEDED = "no_support_needed"
    REFERRED_ELSEWHERE = "referred_elsewhere"
    CONSENT_WITHDRAWN = "consent_withdrawn"  # set by withdrawing consent, not by staff closing
    DUPLICATE = "duplicate"  # set by merging, not by staff closing


# Who a professional involved in the case is (the case, and its webhook events).
class InvolvementRole(StrEnum):
    MIDWIFE = "midwife"
    GP = "gp"
    GYNAECOLOGIST = "gynaecologist"
    JGZ = "jgz"
    KRAAMZORG = "kraamzorg"
    WIJKTEAM = "wijkteam"
    GGZ = "ggz"
    VEILIG_THUIS = "veilig_thuis"
    BUDDY = "buddy"
    PROGRAMME = "programme"
    OTHER = "other"
