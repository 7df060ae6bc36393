"""Handoffs over HTTP. Staff offer an intake to a programme (several programmes may be live
side by side, one live handoff per programme). The offered organisation reads its own
handoff, accepts or declines it, reports the first contact, the start of support and its
end. Anyone else gets 404; a step its state does not allow gets 409."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import StaffWriter, require
from app.auth.principal import Principal
from app.db import Db
from app.handoffs.lifecycle import HandoffStep
from app.handoffs.models import Handoff
from app.handoffs.schemas import DeclineIn, EndIn, HandoffOut, MomentIn, OfferIn, handoff_out
from app.http.headers import IfMatch
from app.http.openapi_docs import ACTION, READ
from app.intakes import handoffs as steps
from app.intakes.service import organisation_codes
from app.regions.tenancy import caller_region

router = APIRouter(tags=["Overdrachten"])
HandoffId = Annotated[uuid.UUID, Path(alias="id", description="Handoff id (UUID)")]
IntakeId = Annotated[uuid.UUID, Path(alias="id", description="Intake id (UUID)")]
Programme = Annotated[Principal, Depends(require("handoffs:write"))]


async def handoff_response(
    db: AsyncSession, handoff: Handoff, principal: Principal, status_code: int = 200
) -> JSONResponse:
    orgs = await organisation_codes(db, {handoff.organisation_id})
    view = handoff_out(handoff, orgs.get(handoff.organisation_id, ""), for_staff=principal.is_staff, with_intake=True)
    headers = {"Location": f"/api/v1/handoffs/{handoff.id}"} if status_code == 201 else {}
    return JSONResponse(view.model_dump(mode="json", by_alias=True), status_code=status_code, headers=headers)


@router.post(
    "/intakes/{id}/handoffs",
    status_code=201,
    response_model=HandoffOut,
    responses=ACTION,
    summary="Offer the intake to a programme (default: the decided one)",
    description=(
        '`{}` offers to the decided programme. `{"programme", "reason"}` offers to that programme next to '
        "any handoff already live (409 `handoff-live` when that programme has one). Each handoff gets its "
        "own `supportStartDueAt`: the region's `support_start` working days counted from the offer."
    ),
)
async def offer_handoff(
    request: Request,
    intake_id: IntakeId,
    principal: StaffWriter,
    db: Db,
    # Optional, and not nullable: `{}` or no body at all offers to the decided programme.
    body: Annotated[OfferIn, Body(default_factory=OfferIn)],
    if_match: IfMatch = None,
) -> JSONResponse:
    handoff = await steps.offer(
        db,
        principal,
        intake_id,
        if_match,
        caller_region(request, principal),
        programme=body.programme,
        reason=body.reason,
    )
    return await handoff_response(db, handoff, principal, 201)


@router.get("/handoffs/{id}", response_model=HandoffOut, responses=READ, summary="A handoff offered to you")
async def get_handoff(handoff_id: HandoffId, principal: Programme, db: Db) -> JSONResponse:
    return await handoff_response(db, await steps.read_handoff(db, principal, handoff_id), principal)


@router.post("/handoffs/{id}/accept", response_model=HandoffOut, responses=ACTION, summary="Accept the handoff")
async def accept(handoff_id: HandoffId, principal: Programme, db: Db) -> JSONResponse:
    return await handoff_response(db, await steps.step(db, principal, handoff_id, HandoffStep.ACCEPT), principal)


@router.post(
    "/handoffs/{id}/decline",
    response_model=HandoffOut,
    responses=ACTION,
    summary="Decline; other programmes' handoffs go on, with none live the intake returns to the aanmeldpunt",
)
async def decline(handoff_id: HandoffId, body: DeclineIn, principal: Programme, db: Db) -> JSONResponse:
    handoff = await steps.step(db, principal, handoff_id, HandoffStep.DECLINE, reason=body.reason)
    return await handoff_response(db, handoff, principal)


@router.post(
    "/handoffs/{id}/first-contact",
    response_model=HandoffOut,
    responses=ACTION,
    summary="Report the first contact (event handoff.first_contact)",
)
async def first_contact(handoff_id: HandoffId, body: MomentIn, principal: Programme, db: Db) -> JSONResponse:
    handoff = await steps.step(db, principal, handoff_id, HandoffStep.FIRST_CONTACT, at=body.at)
    return await handoff_response(db, handoff, principal)


@router.post(
    "/handoffs/{id}/support-started",
    response_model=HandoffOut,
    responses=ACTION,
    summary="Report that support has started (after the first contact)",
)
async def support_started(handoff_id: HandoffId, body: MomentIn, principal: Programme, db: Db) -> JSONResponse:
    handoff = await steps.step(db, principal, handoff_id, HandoffStep.SUPPORT_STARTED, at=body.at)
    return await handoff_response(db, handoff, principal)


@router.post(
    "/handoffs/{id}/end",
    response_model=HandoffOut,
    responses=ACTION,
    summary="End the support (event handoff.ended); your read access ends with it",
)
async def end_handoff(handoff_id: HandoffId, body: EndIn, principal: Programme, db: Db) -> JSONResponse:
    handoff = await steps.step(
        db, principal, handoff_id, HandoffStep.END, at=body.at, end_reason=body.reason, note=body.note
    )
    return await handoff_response(db, handoff, principal)
