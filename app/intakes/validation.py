"""Rules across fields and against today's date; pydantic checks each field on its own.
Each problem names a catalogue code (app/i18n/messages.py); the words are chosen per language."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.consent.rules import LegalBasis
from app.intakes.schemas import Child, ConsentGiven, Pregnancy, ReferralIn, SelfRegistrationIn

Params = list[dict[str, str]]


def _pregnancy(pregnancy: Pregnancy, today: date, out: Params) -> None:
    if pregnancy.pregnant and pregnancy.due_date is None:
        out.append({"name": "pregnancy.dueDate", "code": "dueDate.required"})
    if not pregnancy.pregnant and pregnancy.due_date is not None:
        out.append({"name": "pregnancy.dueDate", "code": "dueDate.notPregnant"})
    due = pregnancy.due_date
    if due is not None and not (today - timedelta(days=30) <= due <= today + timedelta(days=300)):
        out.append({"name": "pregnancy.dueDate", "code": "dueDate.range"})


def pregnancy_problems(pregnancy: Pregnancy, today: date) -> Params:
    out: Params = []
    _pregnancy(pregnancy, today, out)
    return out


def _contact(phone: str | None, email: str | None, has_address: bool, out: Params) -> None:
    if not (phone or email or has_address):
        out.append({"name": "client", "code": "contact.required"})


def _children(children: list[Child], today: date, out: Params) -> None:
    for index, child in enumerate(children):
        if child.birth_date > today or child.birth_date < today - timedelta(days=18 * 366):
            out.append({"name": f"children[{index}].birthDate", "code": "childBirthDate.range"})


def _consent_time(consent: ConsentGiven, now: datetime, out: Params) -> None:
    if consent.obtained_at is not None and consent.obtained_at > now + timedelta(minutes=5):
        out.append({"name": "consent.obtainedAt", "code": "consent.obtainedAt.future"})


def referral_problems(body: ReferralIn, now: datetime, today: date) -> Params:
    out: Params = []
    client = body.client
    _contact(client.phone, client.email, client.address is not None, out)
    _pregnancy(body.pregnancy, today, out)
    _children(body.children, today, out)
    _consent_time(body.consent, now, out)
    if body.legal_basis == LegalBasis.MELDCODE:
        if not body.justification or len(body.justification.strip()) < 20:
            out.append({"name": "justification", "code": "justification.required"})
        if not body.safety_concern:
            out.append({"name": "safetyConcern", "code": "safetyConcern.required"})
    elif not body.consent.client_consented:
        out.append({"name": "consent.clientConsented", "code": "consent.referral"})
    if body.consent.client_consented and "processing" not in body.consent.scopes:
        out.append({"name": "consent.scopes", "code": "consent.processing"})
    return out


def self_registration_problems(body: SelfRegistrationIn, now: datetime, today: date) -> Params:
    out: Params = []
    client = body.client
    _contact(client.phone, client.email, client.address is not None, out)
    _pregnancy(body.pregnancy, today, out)
    _children(body.children, today, out)
    out += self_consent_problems(body.consent, now)
    return out


def self_consent_problems(consent: ConsentGiven, now: datetime) -> Params:
    """Her own consent: given, and for processing at least."""
    out: Params = []
    _consent_time(consent, now, out)
    if not consent.client_consented:
        out.append({"name": "consent.clientConsented", "code": "consent.required"})
    elif "processing" not in consent.scopes:
        out.append({"name": "consent.scopes", "code": "consent.processing"})
    return out
