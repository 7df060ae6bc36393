"""Staff actions on an intake: contacts, assessment, routing, facts, close, merge (the handoff
offer is in app.handoffs.api).

Each answers the intake as it now is, with its new `ETag`. Send `If-Match` with the ETag you
read to be told (412) when someone else changed the intake in the meantime."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field

from app import clock
from app.auth.deps import StaffWriter
from app.cases import service as cases
from app.cases.schemas import ParticipantIn
from app.db import Db
from app.http.headers import IfMatch
from app.http.openapi_docs import ACTION
from app.http.problems import invalid
from app.http.schemas import ApiModel
from app.intakes import workflow
from app.intakes.api import intake_response
from app.intakes.lifecycle import STAFF_CLOSE_REASONS
from app.intakes.schemas import IntakeView, Pregnancy
from app.intakes.validation import pregnancy_problems
from app.intakes.vocab import AssessmentLocation, ContactChannel
from app.regions.tenancy import caller_region
from app.vocab import ConcernCode

router = APIRouter(tags=["Intakes"])
IntakeId = Annotated[uuid.UUID, Path(alias="id", description="Intake id (UUID)")]
Note = Annotated[str | None, Field(default=None, max_length=4000)]


class ContactIn(ApiModel):
    at: AwareDatetime
    channel: ContactChannel
    reached: bool
    note: Note = None


class AssessmentIn(ApiModel):
    visited_at: AwareDatetime
    location: AssessmentLocation
    concerns: list[ConcernCode] = Field(default_factory=list, max_length=30)
    safety_concern: bool = False
    notes: Note = None
    participants: list[ParticipantIn] = Field(
        default_factory=list,
        max_length=20,
        description="A joint intake: the professionals who took part; they become involvements of the case.",
    )


class RoutingIn(ApiModel):
    """`{}` runs the router; `{"programme", "reason"}` is the staff decision."""

    programme: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9-]+$")
    reason: str | None = Field(default=None, max_length=1000)


class FactsIn(ApiModel):
    """Corrected facts. Deadlines are recomputed; a later deadline needs `reason`."""

    pregnancy: Pregnancy | None = None
    safety_concern: bool | None = None
    reason: str | None = Field(default=None, max_length=1000)


class CloseIn(ApiModel):
    reason: Literal[STAFF_CLOSE_REASONS]  # type: ignore[valid-type]
    note: Note = None


class ReopenIn(ApiModel):
    reason: str = Field(min_length=3, max_length=1000, description="Why she needs the aanmeldpunt again.")


class MergeIn(ApiModel):
    into: uuid.UUID = Field(description="The intake that stays open and receives this one's signals.")


@router.post("/intakes/{id}/contacts", response_model=IntakeView, responses=ACTION, summary="Record a contact attempt")
async def add_contact(
    request: Request, intake_id: IntakeId, body: ContactIn, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    bundle = await workflow.add_contact(
        db, principal, intake_id, if_match, at=body.at, channel=body.channel, reached=body.reached, note=body.note
    )
    return await intake_response(db, bundle, principal)


@router.post("/intakes/{id}/assessment", response_model=IntakeView, responses=ACTION, summary="Record the intake visit")
async def assess(
    request: Request, intake_id: IntakeId, body: AssessmentIn, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    known = await cases.resolve_participants(db, principal.region, body.participants, "participants")
    bundle = await workflow.assess(
        db,
        principal,
        intake_id,
        if_match,
        caller_region(request, principal),
        visited_at=body.visited_at,
        location=body.location,
        concerns=[str(c) for c in body.concerns],
        safety_concern=body.safety_concern,
        notes=body.notes,
    )
    # In the assessment's transaction: the joint intake's participants are now involved.
    await cases.add_participants(db, principal, intake_id, body.participants, known, body.visited_at)
    return await intake_response(db, bundle, principal)


@router.post(
    "/intakes/{id}/routing",
    response_model=IntakeView,
    responses=ACTION,
    summary="Run the router, or decide the programme",
)
async def route(
    request: Request, intake_id: IntakeId, body: RoutingIn, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    if body.programme is None:
        if body.reason is not None:
            raise invalid([{"name": "programme", "reason": "A reason goes with a programme decision."}])
        bundle = await workflow.recommend(
            db, principal, intake_id, if_match, request.app.state.router, caller_region(request, principal)
        )
    else:
        bundle = await workflow.decide(db, principal, intake_id, if_match, programme=body.programme, reason=body.reason)
    return await intake_response(db, bundle, principal)


@router.patch(
    "/intakes/{id}",
    response_model=IntakeView,
    responses=ACTION,
    summary="Correct facts that set the deadlines (due date, safety concern)",
)
async def correct_facts(
    request: Request, intake_id: IntakeId, body: FactsIn, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    if body.pregnancy is not None:
        found = pregnancy_problems(body.pregnancy, clock.today_local().date())
        if found:
            raise invalid(found)
    bundle = await workflow.correct_facts(
        db,
        principal,
        intake_id,
        if_match,
        caller_region(request, principal),
        pregnancy=body.pregnancy.model_dump(mode="json", by_alias=True, exclude_none=True) if body.pregnancy else None,
        safety_concern=body.safety_concern,
        reason=body.reason,
    )
    # The case file's record of it, in the same transaction.
    fields = [
        name
        for name, value in (("pregnancy", body.pregnancy), ("safetyConcern", body.safety_concern))
        if value is not None
    ]
    await cases.record_fact_correction(db, principal, bundle, fields, body.reason)
    return await intake_response(db, bundle, principal)


@router.post("/intakes/{id}/close", response_model=IntakeView, responses=ACTION, summary="Close the intake")
async def close(
    request: Request, intake_id: IntakeId, body: CloseIn, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    bundle = await workflow.close(
        db, principal, intake_id, if_match, caller_region(request, principal), reason=body.reason, note=body.note
    )
    return await intake_response(db, bundle, principal)


@router.post(
    "/intakes/{id}/merge",
    response_model=IntakeView,
    responses=ACTION,
    summary="Merge a duplicate into another intake (this one closes as duplicate)",
)
async def merge(
    request: Request, intake_id: IntakeId, body: MergeIn, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    bundle = await workflow.merge(db, principal, intake_id, if_match, caller_region(request, principal), into=body.into)
    return await intake_response(db, bundle, principal)


@router.post(
    "/intakes/{id}/reopen",
    response_model=IntakeView,
    responses=ACTION,
    summary="Reopen a closed intake (aftercare)",
    description=(
        "A closed intake whose personal data is kept becomes `contacted` again, with fresh deadlines from now "
        "computed with its current facts; event `intake.reopened`. 409 when the intake is open, erased, merged "
        "into another, or without `processing` consent."
    ),
)
async def reopen(
    request: Request, intake_id: IntakeId, body: ReopenIn, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    bundle = await workflow.reopen(
        db, principal, intake_id, if_match, caller_region(request, principal), reason=body.reason
    )
    return await intake_response(db, bundle, principal)
