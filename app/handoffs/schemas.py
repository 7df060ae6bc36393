"""Handoff request bodies and the handoff as staff and its own organisation see it."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, Field

from app.handoffs.lifecycle import EndReason, HandoffState
from app.handoffs.models import Handoff
from app.http.schemas import ApiModel, OutModel


class OfferIn(ApiModel):
    """Without `programme`, the intake's decided programme (the first release's offer)."""

    programme: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[a-z0-9-]+$",
        description="Offer to this programme, next to any handoff already live (one live per programme).",
    )
    reason: str | None = Field(
        default=None, max_length=1000, description="Why this support fits her (staff only; not shown to the programme)."
    )


class DeclineIn(ApiModel):
    reason: str = Field(min_length=3, max_length=1000, description="Why the programme cannot take her on.")


class MomentIn(ApiModel):
    at: AwareDatetime


class EndIn(ApiModel):
    at: AwareDatetime = Field(description="When support ended (not in the future, not before it started).")
    reason: EndReason
    note: str | None = Field(default=None, max_length=4000)


class HandoffOut(OutModel):
    id: uuid.UUID
    intake_id: uuid.UUID | None = Field(default=None, description="Fetch it with `GET /intakes/{id}`.")
    programme: str
    organisation: str
    status: HandoffState
    offered_at: datetime
    offer_reason: str | None = Field(default=None, description="Staff only; null for the programme.")
    support_start_due_at: datetime | None = Field(
        default=None, description="The region's `support_start` working days counted from the offer."
    )
    accepted_at: datetime | None = None
    declined_at: datetime | None = None
    decline_reason: str | None = None
    revoked_at: datetime | None = None
    first_contact_at: datetime | None = None
    support_started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    end_note: str | None = None


def handoff_out(h: Handoff, organisation: str, *, for_staff: bool, with_intake: bool = False) -> HandoffOut:
    """Built field by field. Staff see every handoff; an organisation sees only its own
    (the callers make sure of that), without the staff's offer reason."""
    return HandoffOut(
        id=h.id,
        intake_id=h.intake_id if with_intake else None,
        programme=h.programme,
        organisation=organisation,
        status=HandoffState(h.status),
        offered_at=h.offered_at,
        offer_reason=h.offer_reason if for_staff else None,
        support_start_due_at=h.support_start_due_at,
        accepted_at=h.accepted_at,
        declined_at=h.declined_at,
        decline_reason=h.decline_reason,
        revoked_at=h.revoked_at,
        first_contact_at=h.first_contact_at,
        support_started_at=h.support_started_at,
        ended_at=h.ended_at,
        end_reason=EndReason(h.end_reason) if h.end_reason else None,
        end_note=h.end_note,
    )
