"""Vocabularies the intakes capability owns, pure. Shared ones: app.vocab; the lifecycle's
statuses, steps and close reasons: app.intakes.lifecycle."""

from __future__ import annotations

from enum import StrEnum


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


class ContactChannel(StrEnum):
    """How staff tried to reach the woman (a contact attempt)."""

    PHONE = "phone"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    LETTER = "letter"
    VISIT = "visit"


class ContactPreference(StrEnum):
    """How a self-registering woman prefers to be contacted."""

    PHONE = "phone"
    EMAIL = "email"
    WHATSAPP = "whatsapp"


class AssessmentLocation(StrEnum):
    HOME = "home"
    OFFICE = "office"
    PHONE = "phone"
    VIDEO = "video"
