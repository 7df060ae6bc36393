"""Request and response models of the case (API.md "The case")."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AwareDatetime, ConfigDict, EmailStr, Field, field_validator, model_validator

from app.cases.vocab import InvolvementSource, TimelineType
from app.consent.rules import ConsentMethod, ConsentScope, LegalBasis
from app.deadlines.policy import DeadlinePhase
from app.http.schemas import ActorOut, ApiModel, Name, OutModel, Page
from app.intakes.schemas import AgreementOut, check_phone
from app.intakes.vocab import AssessmentLocation, ContactChannel
from app.routing.schemas import ProgrammeReasons
from app.vocab import CloseReason, InvolvementRole, ReferrerRole

OptionalPhone = Field(default=None, max_length=32)
OptionalEmail = Field(default=None, max_length=254)


class CoordinatorIn(ApiModel):
    """The one person to call: an aanmeldpunt worker, or the coach of a programme taking over."""

    name: Name  # a person's name (app.names), like the woman's
    phone: str | None = OptionalPhone
    email: EmailStr | None = OptionalEmail
    user_id: str | None = Field(
        default=None, max_length=200, description="The coordinator's user id (worklist filter)."
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value)


class ParticipantIn(ApiModel):
    """A professional taking part (a joint intake, a case meeting): a known organisation by
    its code, or another by name."""

    role: InvolvementRole
    organisation: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9-]+$")
    # Names (app.names): no invisible or bidi characters stored or shown.
    organisation_name: Name | None = None
    professional_name: Name | None = None

    @model_validator(mode="after")
    def _one_organisation(self) -> ParticipantIn:
        if (self.organisation is None) == (self.organisation_name is None):
            raise ValueError("Give either 'organisation' (a known code) or 'organisationName'.")
        return self


class ParticipantOut(OutModel):
    role: InvolvementRole
    organisation: str | None = None
    organisation_name: str | None = None
    professional_name: str | None = None


class InvolvementIn(ParticipantIn):
    phone: str | None = OptionalPhone
    email: EmailStr | None = OptionalEmail
    since: AwareDatetime | None = Field(default=None, description="Default: now.")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value)


class InvolvementEndIn(ApiModel):
    until: AwareDatetime


class InvolvementOut(OutModel):
    """Who is involved: role, organisation, name and work contact details — never the case's content."""

    id: uuid.UUID
    role: InvolvementRole
    organisation: str | None = None
    organisation_name: str | None = None
    professional_name: str | None = None
    phone: str | None = None
    email: str | None = None
    since: datetime
    until: datetime | None = None
    source: InvolvementSource


class AgreementIn(ApiModel):
    what: str = Field(min_length=1, max_length=1000)
    owner: str = Field(min_length=1, max_length=200, description="Who does it (a name or organisation).")
    due_date: date


class CaseMeetingIn(ApiModel):
    at: AwareDatetime
    participants: list[ParticipantIn] = Field(min_length=1, max_length=30)
    summary: str | None = Field(default=None, max_length=4000)
    agreements: list[AgreementIn] = Field(default_factory=list, max_length=30)


class CaseMeetingOut(OutModel):
    id: uuid.UUID
    at: datetime
    participants: list[ParticipantOut]
    summary: str | None = None
    agreements: list[AgreementOut]
    recorded_at: datetime
    recorded_by: ActorOut


class AgreementDoneIn(ApiModel):
    at: AwareDatetime
    note: str | None = Field(default=None, max_length=4000)


class NoteIn(ApiModel):
    text: str = Field(min_length=1, max_length=4000)


class NoteOut(OutModel):
    id: uuid.UUID
    text: str
    recorded_at: datetime
    recorded_by: ActorOut


class TimelineAgreement(OutModel):
    id: uuid.UUID
    what: str
    owner: str
    due_date: date


class TimelineDetails(OutModel):
    """What the entry records. One shape for every type (typed for generated clients); the
    fields an entry type has are filled, the rest are null."""

    model_config = ConfigDict(extra="forbid")

    # received
    reference: str | None = None
    source: str | None = None
    concerns: list[str] | None = None
    referrer_role: ReferrerRole | None = None
    legal_basis: LegalBasis | None = None
    # contact_attempt, assessment
    channel: ContactChannel | None = None
    reached: bool | None = None
    note: str | None = None
    recorded_at: datetime | None = None
    location: AssessmentLocation | None = None
    safety_concern: bool | None = None
    notes: str | None = None
    # routing_recommendation, routing_decision, handoff_*
    programme: str | None = None
    reasons: list[str] | None = None
    alternatives: list[ProgrammeReasons] | None = None
    additional: list[ProgrammeReasons] | None = None
    excluded: list[ProgrammeReasons] | None = None
    advice: list[str] | None = None
    router: str | None = None
    override: bool | None = None
    reason: str | None = None
    handoff_id: uuid.UUID | None = None
    organisation: str | None = None
    # consent_*, legal_basis_changed
    scope: ConsentScope | None = None
    obtained_at: datetime | None = None
    method: ConsentMethod | None = None
    basis: LegalBasis | None = None
    justification: str | None = None
    requested_by: ActorOut | None = None
    # coordinator_changed, involvement_*
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    user_id: str | None = None
    involvement_id: uuid.UUID | None = None
    role: InvolvementRole | None = None
    organisation_name: str | None = None
    professional_name: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # case_meeting, agreement_done, note
    case_meeting_id: uuid.UUID | None = None
    participants: list[ParticipantOut] | None = None
    summary: str | None = None
    agreements: list[TimelineAgreement] | None = None
    agreement_id: uuid.UUID | None = None
    what: str | None = None
    owner: str | None = None
    text: str | None = None
    # facts_corrected
    fields: list[str] | None = None
    # merged, closed, deadline_breached
    intake_id: uuid.UUID | None = None
    close_reason: CloseReason | None = None
    merged_into: uuid.UUID | None = None
    phase: DeadlinePhase | None = None
    due_at: datetime | None = None


class TimelineEntryOut(OutModel):
    at: datetime
    type: TimelineType
    actor: ActorOut
    summary: str
    details: TimelineDetails


class InvolvementPage(Page[InvolvementOut]):
    """Who is involved, oldest first."""


class CaseMeetingPage(Page[CaseMeetingOut]):
    """Case meetings, oldest first."""


class TimelinePage(Page[TimelineEntryOut]):
    """The case file, oldest first."""
