"""The `data` of the webhook events about an intake: one response model per event type.

Thin on purpose (API.md "Webhooks"): ids, status, programme, deadlines and coded extras —
never names, BSN, contact details or free text. Every model refuses unknown fields, so an
event's data is exactly its model's fields, camelCase on the wire, timestamps in UTC with
`Z` (`clock.iso_z`). `app.intakes.service.thin_data` builds them; the dispatcher adds `url`
per receiver (app/webhooks/dispatcher.py). `EVENT_DATA` says which model each event type's
data has (the tests validate every stored event with it). One event is stored for all its
audiences; `for_programme` is what a programme's subscription gets of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date
from typing import Any

from pydantic import ConfigDict, Field

from app.consent.rules import ConsentScope, LegalBasis, LegalBasisStatus
from app.deadlines.policy import DeadlinePhase, DeadlineState
from app.handoffs.lifecycle import EndReason, RevokeReason
from app.http.schemas import OutModel, UtcDateTime
from app.intakes.lifecycle import IntakeStatus
from app.vocab import CloseReason, EventType, InvolvementRole
from app.webhooks.events import EndpointDisabledData, EventModel

__all__ = ["EVENT_DATA", "EndpointDisabledData", "EventDeadline", "EventModel", "IntakeEventData"]


class EventDeadline(OutModel):
    """One of the intake's deadlines that is not cancelled."""

    model_config = ConfigDict(extra="forbid")

    phase: DeadlinePhase
    due_at: UtcDateTime
    state: DeadlineState


class IntakeEventData(EventModel):
    """What every event about an intake carries (`intake.received`, `.assessed`, `.routed`,
    `.reopened` carry nothing more)."""

    intake_id: uuid.UUID
    reference: str
    status: IntakeStatus
    programme: str | None = Field(
        description="The decided programme (on a handoff's event: that handoff's). A programme's "
        "subscription gets it only when it is one of its own programmes, else null."
    )
    next_deadline_at: UtcDateTime | None
    deadlines: list[EventDeadline]


class ContactedData(IntakeEventData):
    reached: bool


class HandoffData(IntakeEventData):
    """`handoff.offered`, `.accepted`, `.declined`, `.first_contact`, `intake.support_started`."""

    handoff_id: uuid.UUID
    programme: str | None  # the handoff's programme


class HandoffRevokedData(HandoffData):
    reason: RevokeReason


class HandoffEndedData(HandoffData):
    end_reason: EndReason


class ClosedData(IntakeEventData):
    close_reason: CloseReason


class MergedData(ClosedData):
    """`intake.closed` of a duplicate merged into another intake."""

    merged_into: uuid.UUID


class DeadlineEventData(IntakeEventData):
    phase: DeadlinePhase
    due_at: UtcDateTime


class ConsentWithdrawnData(IntakeEventData):
    scope: ConsentScope


class LegalBasisData(IntakeEventData):
    legal_basis_id: uuid.UUID
    basis: LegalBasis
    legal_basis_status: LegalBasisStatus


class CoordinatorChangedData(IntakeEventData):
    coordinator_organisation: str
    take_over: bool


class InvolvementData(IntakeEventData):
    involvement_id: uuid.UUID
    role: InvolvementRole


class CaseMeetingData(IntakeEventData):
    case_meeting_id: uuid.UUID
    agreements: int = Field(description="How many agreements were made (a count; their text stays in the case).")


class NoteData(IntakeEventData):
    note_id: uuid.UUID


class AgreementData(IntakeEventData):
    agreement_id: uuid.UUID


class AgreementOverdueData(AgreementData):
    due_date: date


def for_programme(data: dict[str, Any], own_programmes: Collection[str]) -> dict[str, Any]:
    """A programme organisation's copy of an event's stored data: `programme` only when it is
    one of its own handoffs' programmes, else null. The stored event names the decided
    programme for every audience; another programme with a live handoff must not learn which
    one was chosen (it sees only its own handoff, as in its intake view)."""
    if data.get("programme") is None or data["programme"] in own_programmes:
        return data
    return {**data, "programme": None}


E = EventType
# Which model each event type's data has (a tuple where one type has two shapes).
EVENT_DATA: dict[EventType, tuple[type[EventModel], ...]] = {
    E.INTAKE_RECEIVED: (IntakeEventData,),
    E.INTAKE_CONTACTED: (ContactedData,),
    E.INTAKE_ASSESSED: (IntakeEventData,),
    E.INTAKE_ROUTED: (IntakeEventData,),
    E.HANDOFF_OFFERED: (HandoffData,),
    E.HANDOFF_ACCEPTED: (HandoffData,),
    E.HANDOFF_DECLINED: (HandoffData,),
    E.HANDOFF_REVOKED: (HandoffRevokedData,),
    E.HANDOFF_FIRST_CONTACT: (HandoffData,),
    E.HANDOFF_ENDED: (HandoffEndedData,),
    E.INTAKE_SUPPORT_STARTED: (HandoffData,),
    E.INTAKE_CLOSED: (ClosedData, MergedData),
    E.INTAKE_REOPENED: (IntakeEventData,),
    E.DEADLINE_APPROACHING: (DeadlineEventData,),
    E.DEADLINE_BREACHED: (DeadlineEventData,),
    E.CONSENT_WITHDRAWN: (ConsentWithdrawnData,),
    E.ENDPOINT_DISABLED: (EndpointDisabledData,),
    E.INTAKE_LEGAL_BASIS_REQUESTED: (LegalBasisData,),
    E.INTAKE_LEGAL_BASIS_CHANGED: (LegalBasisData,),
    E.INTAKE_COORDINATOR_CHANGED: (CoordinatorChangedData,),
    E.INTAKE_INVOLVEMENT_ADDED: (InvolvementData,),
    E.INTAKE_INVOLVEMENT_ENDED: (InvolvementData,),
    E.INTAKE_CASE_MEETING_RECORDED: (CaseMeetingData,),
    E.INTAKE_NOTE_ADDED: (NoteData,),
    E.AGREEMENT_DONE: (AgreementData,),
    E.AGREEMENT_OVERDUE: (AgreementOverdueData,),
}
