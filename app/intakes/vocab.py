"""Vocabularies only the intakes capability uses, pure. Shared ones (intake source, concern
source, referrer role, close reason: statistics count by them too): app.vocab; the
lifecycle's statuses and steps: app.intakes.lifecycle."""

from __future__ import annotations

from enum import StrEnum


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
