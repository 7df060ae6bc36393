"""The intake as a programme organisation sees it (`GET /intakes/{id}` with `handoffs:write`).

Data minimisation per audience (AVG art. 5(1)(c)): a programme gets what it needs to make
contact with her and to judge whether and how it can support her — and nothing the
aanmeldpunt learnt for its own work. Every field is listed here on purpose, with its reason
in README.md ("What a programme sees"); a test fails when any other field appears. The
models are built field by field from the intake, never by filtering the staff view.

Not here, on purpose: BSN, the referrer and its contact details, the referrer's narrative and
the self-registration message (free text), consent records (notes, who recorded them),
the legal-basis justification, routing (reasons, alternatives, other programmes' exclusions),
other organisations' handoffs and any decline reason, possible duplicates, the other
deadlines, contacts and assessment notes, received/closed dates and close reason.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, Field

from app import clock
from app.consent.rules import LegalBasis
from app.deadlines.policy import days_pregnant_fmt
from app.handoffs.lifecycle import HandoffState
from app.handoffs.models import Handoff
from app.http.schemas import OutModel
from app.intakes.schemas import ConcernOut, CoordinatorOut, PregnancyOut
from app.intakes.service import IntakeBundle, concern_list
from app.intakes.vocab import ContactPreference
from app.vocab import VulnerabilityLevel


class ProgrammeAddress(OutModel):
    postcode: str | None = None
    house_number: str | None = None
    house_number_suffix: str | None = None
    city: str | None = None


class ProgrammeClient(OutModel):
    """How to reach her and address her; her age decides eligibility (VoorZorg ≤ 25)."""

    given_name: str
    family_name: str
    birth_date: date
    phone: str | None = None
    email: str | None = None
    address: ProgrammeAddress | None = None
    preferred_language: str | None = None
    interpreter_needed: bool = False


class ProgrammeChild(OutModel):
    birth_date: date


class ProgrammeHandoff(OutModel):
    """One of the caller's own handoffs of this intake (never another organisation's)."""

    id: uuid.UUID
    programme: str
    status: HandoffState
    offered_at: datetime
    accepted_at: datetime | None = None
    first_contact_at: datetime | None = None
    support_started_at: datetime | None = None
    support_start_due_at: datetime | None = None


class ProgrammeIntakeView(OutModel):
    """What a programme with a live handoff sees of the intake."""

    model_config = ConfigDict(title="ProgrammeIntakeView")

    id: uuid.UUID
    reference: str
    legal_basis: LegalBasis
    client: ProgrammeClient | None
    contact_preference: ContactPreference | None = None
    pregnancy: PregnancyOut
    children: list[ProgrammeChild]
    concerns: list[ConcernOut]
    safety_concern: bool
    vulnerability: VulnerabilityLevel
    handoffs: list[ProgrammeHandoff]
    coordinator: CoordinatorOut | None = Field(
        default=None, description="The case's one person to call (work contact details only)."
    )


def _client(stored: dict[str, Any] | None) -> ProgrammeClient | None:
    if not stored:
        return None
    address = stored.get("address")
    return ProgrammeClient(
        given_name=stored["givenName"],
        family_name=stored["familyName"],
        birth_date=date.fromisoformat(stored["birthDate"]),
        phone=stored.get("phone"),
        email=stored.get("email"),
        address=ProgrammeAddress(
            postcode=address.get("postcode"),
            house_number=address.get("houseNumber"),
            house_number_suffix=address.get("houseNumberSuffix"),
            city=address.get("city"),
        )
        if address
        else None,
        preferred_language=stored.get("preferredLanguage"),
        interpreter_needed=bool(stored.get("interpreterNeeded", False)),
    )


def _pregnancy(stored: dict[str, Any]) -> PregnancyOut:
    due = date.fromisoformat(stored["dueDate"]) if stored.get("dueDate") else None
    pregnant = bool(stored.get("pregnant"))
    return PregnancyOut(
        pregnant=pregnant,
        due_date=due,
        first_child=stored.get("firstChild"),
        weeks_pregnant=days_pregnant_fmt(due, clock.today_local().date()) if pregnant and due else None,
    )


def _handoff(h: Handoff) -> ProgrammeHandoff:
    return ProgrammeHandoff(
        id=h.id,
        programme=h.programme,
        status=HandoffState(h.status),
        offered_at=h.offered_at,
        accepted_at=h.accepted_at,
        first_contact_at=h.first_contact_at,
        support_started_at=h.support_started_at,
        support_start_due_at=h.support_start_due_at,
    )


def programme_view(
    bundle: IntakeBundle, organisation_id: uuid.UUID, coordinator: CoordinatorOut | None = None
) -> ProgrammeIntakeView:
    """Only for a caller that `programme_may_read` allowed; the API checks that first."""
    intake = bundle.intake
    return ProgrammeIntakeView(
        id=intake.id,
        reference=intake.reference,
        legal_basis=intake.legal_basis,
        client=_client(intake.client),
        contact_preference=intake.contact_preference,
        pregnancy=_pregnancy(intake.pregnancy),
        children=[ProgrammeChild(birth_date=date.fromisoformat(c["birthDate"])) for c in intake.children],
        concerns=concern_list(intake),
        safety_concern=intake.safety_concern,
        vulnerability=intake.vulnerability,
        # Its own handoffs only: never another programme's, nor any decline reason.
        handoffs=[_handoff(h) for h in bundle.handoffs if h.organisation_id == organisation_id],
        coordinator=coordinator,
    )
