"""Request and response bodies of the intake endpoints."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

import phonenumbers
from pydantic import AwareDatetime, EmailStr, Field, field_validator
from pydantic_core import PydanticCustomError
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

from app import clock
from app.consent.rules import ConsentMethod, ConsentScope, LegalBasis
from app.deadlines.policy import DeadlinePhase, DeadlineState
from app.handoffs.schemas import HandoffOut
from app.http.schemas import ApiModel, Name, OutModel, Page
from app.intakes.lifecycle import IntakeStatus
from app.intakes.vocab import ContactPreference
from app.routing.schemas import RecommendationOut
from app.vocab import CloseReason, ConcernCode, ConcernSource, IntakeSource, ReferrerRole, VulnerabilityLevel

POSTCODE = re.compile(r"^[1-9][0-9]{3} ?[A-Z]{2}$")


def check_phone(value: str | None) -> str | None:
    """Any way people write a Dutch or international number, stored as E.164 (+31612345678)."""
    if value is None:
        return None
    error = PydanticCustomError("phone.format", "Not a valid Dutch or international phone number.")
    try:
        number = phonenumbers.parse(value.strip(), "NL")
    except phonenumbers.NumberParseException:
        raise error from None
    if not phonenumbers.is_valid_number(number):
        raise error
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def trimmed(value: object) -> object:
    """Names and other short text as people mean them: no spaces around, single spaces inside."""
    return " ".join(value.split()) if isinstance(value, str) else value


def normal_postcode(value: object) -> object:
    """`3073ab`, ` 3073  AB ` -> `3073 AB`: read, then judged; an empty one is no postcode."""
    if not isinstance(value, str):
        return value
    compact = "".join(value.split()).upper()
    if not compact:
        return None
    return f"{compact[:4]} {compact[4:]}" if len(compact) == 6 else compact


class Address(ApiModel):
    postcode: str | None = Field(default=None, max_length=7, examples=["3073 AB"])
    house_number: str | None = Field(default=None, max_length=10, pattern=r"^[0-9]{1,5}$")
    house_number_suffix: str | None = Field(default=None, max_length=6)
    city: str | None = Field(default=None, max_length=100)

    @field_validator("postcode", mode="before")
    @classmethod
    def _normal_postcode(cls, value: object) -> object:
        return normal_postcode(value)

    @field_validator("house_number", "house_number_suffix", "city", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return trimmed(value)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not POSTCODE.match(value) or not stdnum_postcode.is_valid(value):
            raise PydanticCustomError(
                "postcode.format", "A Dutch postcode: four digits (not starting with 0), two capitals, not SA/SD/SS."
            )
        compact = stdnum_postcode.compact(value)
        return f"{compact[:4]} {compact[4:]}"


class ClientBase(ApiModel):
    given_name: Name
    family_name: Name
    birth_date: date
    phone: str | None = Field(default=None, max_length=32)
    email: EmailStr | None = Field(default=None, max_length=254)
    address: Address | None = None
    preferred_language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    interpreter_needed: bool = False

    @field_validator("given_name", "family_name", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return trimmed(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value)

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: date) -> date:
        if value > clock.today_local().date() or value.year < 1900:
            raise PydanticCustomError("birthDate.past", "A birth date in the past.")
        return value


class Partner(ApiModel):
    """Her partner, when known (personal data like hers: staff only, erased with the intake)."""

    # Names like hers (app.names): no invisible or bidi characters stored or shown.
    given_name: Name
    family_name: Name | None = None
    phone: str | None = Field(default=None, max_length=32)
    email: EmailStr | None = Field(default=None, max_length=254)
    involved: bool = Field(description="Whether the partner is involved in the pregnancy or the care of the children.")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value)


class ReferralClient(ClientBase):
    bsn: str | None = Field(default=None, description="Burgerservicenummer; must pass the elfproef.")

    @field_validator("bsn", mode="before")
    @classmethod
    def _compact_bsn(cls, value: object) -> object:
        # `123 456 782` and `123.456.782` are how it is printed on a passport or letter.
        return "".join(value.replace(".", " ").split()) if isinstance(value, str) else value

    @field_validator("bsn")
    @classmethod
    def _bsn(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"[0-9]{9}", value) or not stdnum_bsn.is_valid(value):
            raise PydanticCustomError("bsn.elfproef", "A BSN is 9 digits that pass the elfproef.")
        return value


class SelfClient(ClientBase):
    pass


class Pregnancy(ApiModel):
    pregnant: bool
    due_date: date | None = None
    first_child: bool | None = None


class Child(ApiModel):
    birth_date: date


class ConsentGiven(ApiModel):
    client_consented: bool
    obtained_at: AwareDatetime | None = None
    method: ConsentMethod = ConsentMethod.VERBAL
    scopes: list[ConsentScope] = Field(default_factory=list, max_length=4)


class Referrer(ApiModel):
    professional_name: Name
    role: ReferrerRole
    phone: str | None = Field(default=None, max_length=32)
    email: EmailStr | None = Field(default=None, max_length=254)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value)


class ReferralIn(ApiModel):
    client: ReferralClient
    pregnancy: Pregnancy
    children: list[Child] = Field(default_factory=list, max_length=20)
    concerns: list[ConcernCode] = Field(default_factory=list, max_length=30)
    safety_concern: bool = False
    narrative: str | None = Field(default=None, max_length=4000)
    referrer: Referrer
    partner: Partner | None = None
    consent: ConsentGiven
    legal_basis: LegalBasis = LegalBasis.CONSENT
    justification: str | None = Field(default=None, max_length=4000)


class SelfRegistrationIn(ApiModel):
    region: str | None = Field(
        default=None,
        max_length=64,
        description="Region code (GET /api/v1/regions); required when the deployment serves several.",
    )
    client: SelfClient
    pregnancy: Pregnancy
    children: list[Child] = Field(default_factory=list, max_length=20)
    concerns: list[ConcernCode] = Field(default_factory=list, max_length=30)
    message: str | None = Field(default=None, max_length=4000)
    contact_preference: ContactPreference | None = None
    partner: Partner | None = None
    consent: ConsentGiven


class SelfRegistrationAccepted(OutModel):
    reference: str
    message: str


class ConcernOut(OutModel):
    code: str
    domain: str
    source: ConcernSource


class PregnancyOut(OutModel):
    pregnant: bool
    due_date: date | None = None
    first_child: bool | None = None
    weeks_pregnant: str | None = Field(default=None, description="Weeks+days today, e.g. `16+3`.")


class DeadlineOut(OutModel):
    phase: DeadlinePhase
    due_at: datetime
    met_at: datetime | None = None
    state: DeadlineState
    policy_version: int | None = Field(default=None, description="The region's policy version it was computed with.")


class ConsentOut(OutModel):
    id: uuid.UUID
    scope: ConsentScope
    given: bool
    obtained_at: datetime
    method: ConsentMethod
    recorded_at: datetime
    recorded_by: str
    withdraws: uuid.UUID | None = None
    note: str | None = None


class AddressOut(OutModel):
    postcode: str | None = None
    house_number: str | None = None
    house_number_suffix: str | None = None
    city: str | None = None


class ClientDetails(OutModel):
    """The woman's details as stored (staff, and a programme with a live handoff)."""

    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None
    bsn: str | None = None
    phone: str | None = None
    email: str | None = None
    address: AddressOut | None = None
    preferred_language: str | None = None
    interpreter_needed: bool | None = None


class PartnerOut(OutModel):
    given_name: str | None = None
    family_name: str | None = None
    phone: str | None = None
    email: str | None = None
    involved: bool | None = None


class ChildOut(OutModel):
    birth_date: date | None = None


class ReferrerOut(OutModel):
    professional_name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


class RoutingDecisionOut(OutModel):
    programme: str
    override: bool | None = None
    reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


class RoutingOut(OutModel):
    """The stored recommendation of the router and the staff decision."""

    recommendation: RecommendationOut | None = None
    recommended_at: datetime | None = None
    recommended_by: str | None = None
    decision: RoutingDecisionOut | None = None
    close_note: str | None = None


# The intake's case as the intake shows it (app.cases builds on intakes and fills these).
class CoordinatorOut(OutModel):
    name: str
    phone: str | None = None
    email: str | None = None
    user_id: str | None = None
    organisation: str
    since: datetime


class AgreementOut(OutModel):
    id: uuid.UUID
    meeting_id: uuid.UUID
    what: str
    owner: str
    due_date: date
    done_at: datetime | None = None


class IntakeView(OutModel):
    id: uuid.UUID
    reference: str
    status: IntakeStatus
    source: IntakeSource
    received_at: datetime
    referrer_organisation: str | None = None
    legal_basis: LegalBasis
    client: ClientDetails | None
    pregnancy: PregnancyOut
    children: list[ChildOut]
    concerns: list[ConcernOut]
    safety_concern: bool
    narrative: str | None = None
    message: str | None = None
    contact_preference: ContactPreference | None = None
    referrer: ReferrerOut | None = None
    vulnerability: VulnerabilityLevel
    deadlines: list[DeadlineOut]
    next_deadline_at: datetime | None = None
    consents: list[ConsentOut]
    routing: RoutingOut | None = None
    handoffs: list[HandoffOut]
    possible_duplicates: list[uuid.UUID] | None = None
    partner: PartnerOut | None = None
    previous_intakes: list[uuid.UUID] = Field(
        default_factory=list, description="Her earlier closed intakes (same matching as possible duplicates)."
    )
    later_intakes: list[uuid.UUID] = Field(
        default_factory=list, description="Intakes received for her after this one was closed (she came back)."
    )
    close_reason: CloseReason | None = None
    closed_at: datetime | None = None
    erased: bool = False
    coordinator: CoordinatorOut | None = Field(default=None, description="The one person to call (app.cases).")
    agreements: list[AgreementOut] = Field(
        default_factory=list, description="Agreements of the case meetings; open ones have `doneAt` null."
    )


class IntakeSummary(OutModel):
    """A worklist row: enough to choose, with personal data kept to the name."""

    id: uuid.UUID
    reference: str
    status: IntakeStatus
    source: IntakeSource
    received_at: datetime
    display_name: str | None
    pregnant: bool
    safety_concern: bool
    vulnerability: VulnerabilityLevel
    decided_programme: str | None = None
    next_deadline_at: datetime | None = None
    overdue: bool


class IntakePage(Page[IntakeSummary]):
    pass
