"""The programme side of a handoff: the offered organisation reads, accepts or declines it,
and reports the first contact and the start of support. Anyone else gets 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field

from app.auth.deps import require
from app.auth.principal import Principal
from app.db import Db
from app.handoffs.schemas import HandoffOut, handoff_response
from app.http.openapi_docs import ACTION, READ
from app.http.schemas import ApiModel
from app.intakes import workflow
from app.intakes.lifecycle import Step

router = APIRouter(tags=["Overdrachten"])
HandoffId = Annotated[uuid.UUID, Path(alias="id", description="Handoff id (UUID)")]
Programme = Annotated[Principal, Depends(require("handoffs:write"))]


class DeclineIn(ApiModel):
    reason: str = Field(min_length=3, max_length=1000, description="Why the programme cannot take her on.")


class MomentIn(ApiModel):
    at: AwareDatetime


@router.get("/handoffs/{id}", response_model=HandoffOut, responses=READ, summary="A handoff offered to you")
async def get_handoff(handoff_id: HandoffId, principal: Programme, db: Db) -> JSONResponse:
    return await handoff_response(db, await workflow.read_handoff(db, principal, handoff_id))


@router.post("/handoffs/{id}/accept", response_model=HandoffOut, responses=ACTION, summary="Accept the handoff")
async def accept(handoff_id: HandoffId, principal: Programme, db: Db) -> JSONResponse:
    return await handoff_response(db, await workflow.handoff_step(db, principal, handoff_id, Step.ACCEPT))


@router.post(
    "/handoffs/{id}/decline",
    response_model=HandoffOut,
    responses=ACTION,
    summary="Decline: the intake returns to the aanmeldpunt, this programme excluded",
)
async def decline(handoff_id: HandoffId, body: DeclineIn, principal: Programme, db: Db) -> JSONResponse:
    handoff = await workflow.handoff_step(db, principal, handoff_id, Step.DECLINE, reason=body.reason)
    return await handoff_response(db, handoff)


@router.post(
    "/handoffs/{id}/first-contact", response_model=HandoffOut, responses=ACTION, summary="Report the first contact"
)
async def first_contact(handoff_id: HandoffId, body: MomentIn, principal: Programme, db: Db) -> JSONResponse:
    handoff = await workflow.handoff_step(db, principal, handoff_id, Step.FIRST_CONTACT, at=body.at)
    return await handoff_response(db, handoff)


@router.post(
    "/handoffs/{id}/support-started",
    response_model=HandoffOut,
    responses=ACTION,
    summary="Report that support has started",
)
async def support_started(handoff_id: HandoffId, body: MomentIn, principal: Programme, db: Db) -> JSONResponse:
    handoff = await workflow.handoff_step(db, principal, handoff_id, Step.SUPPORT_STARTED, at=body.at)
    return await handoff_response(db, handoff)
