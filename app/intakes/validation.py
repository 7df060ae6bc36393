"""Rules across fields and against today's date; pydantic checks each field on its own."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.intakes.schemas import Child, ConsentGiven, Pregnancy, ReferralIn, SelfRegistrationIn

Params = list[dict[str, str]]


def _pregnancy(pregnancy: Pregnancy, today: date, out: Params) -> None:
    if pregnancy.pregnant and pregnancy.due_date is None:
        out.append({"name": "pregnancy.dueDate", "reason": "Required when pregnant."})
    if not pregnancy.pregnant and pregnancy.due_date is not None:
        out.append({"name": "pregnancy.dueDate", "reason": "Only when pregnant."})
    due = pregnancy.due_date
    if due is not None and not (today - timedelta(days=30) <= due <= today + timedelta(days=300)):
        out.append({"name": "pregnancy.dueDate", "reason": "Between 30 days ago and 300 days from today."})


def pregnancy_problems(pregnancy: Pregnancy, today: date) -> Params:
    out: Params = []
    _pregnancy(pregnancy, today, out)
    return out


def _contact(phone: str | None, email: str | None, has_address: bool, out: Params) -> None:
    if not (phone or email or has_address):
        out.append({"name": "client", "reason": "At least one of phone, email or address is required."})


def _children(children: list[Child], today: date, out: Params) -> None:
    for index, child in enumerate(children):
        if child.birth_date > today or child.birth_date < today - timedelta(days=18 * 366):
            out.append({"name": f"children[{index}].birthDate", "reason": "A birth date in the past 18 years."})


def _consent_time(consent: ConsentGiven, now: datetime, out: Params) -> None:
    if consent.obtained_at is not None and consent.obtained_at > now + timedelta(minutes=5):
        out.append({"name": "consent.obtainedAt", "reason": "Not in the future."})


def referral_problems(body: ReferralIn, now: datetime, today: date) -> Params:
    out: Params = []
    client = body.client
    _contact(client.phone, client.email, client.address is not None, out)
    _pregnancy(body.pregnancy, today, out)
    _children(body.children, today, out)
    _consent_time(body.consent, now, out)
    if body.legal_basis == "meldcode":
        if not body.justification or len(body.justification.strip()) < 20:
            out.append(
                {
                    "name": "justification",
                    "reason": "The meldcode basis needs a written justification of at least 20 characters.",
                }
            )
        if not body.safety_concern:
            out.append({"name": "safetyConcern", "reason": "The meldcode basis applies only with a safety concern."})
    elif not body.consent.client_consented:
        out.append(
            {
                "name": "consent.clientConsented",
                "reason": "A referral needs the client's consent, unless legalBasis is meldcode.",
            }
        )
    if body.consent.client_consented and "processing" not in body.consent.scopes:
        out.append({"name": "consent.scopes", "reason": "Consent must include 'processing'."})
    return out


def self_registration_problems(body: SelfRegistrationIn, now: datetime, today: date) -> Params:
    out: Params = []
    client = body.client
    _contact(client.phone, client.email, client.address is not None, out)
    _pregnancy(body.pregnancy, today, out)
    _children(body.children, today, out)
    _consent_time(body.consent, now, out)
    if not body.consent.client_consented:
        out.append({"name": "consent.clientConsented", "reason": "We can only help when you agree."})
    elif "processing" not in body.consent.scopes:
        out.append({"name": "consent.scopes", "reason": "Consent must include 'processing'."})
    return out
