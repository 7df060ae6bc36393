"""Consent records of an intake, withdrawal, the meldcode basis, and the intake's access log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field
from sqlalchemy import select

from app.audit import service as audit
from app.audit.models import AccessLogEntry
from app.auth.deps import Staff, StaffWriter
from app.consent import service
from app.db import Db
from app.http.openapi_docs import ACTION, CREATE, LIST, READ
from app.http.schemas import ApiModel, OutModel, Page, SequenceNumber, decode_cursor, encode_cursor
from app.intakes.api import intake_response
from app.intakes.schemas import ConsentOut, ConsentScopeCode, IntakeView
from app.intakes.service import consent_view, visible_bundle
from app.regions.tenancy import caller_region

router = APIRouter(tags=["Toestemming en audit"])
IntakeId = Annotated[uuid.UUID, Path(alias="id", description="Intake id (UUID)")]
ConsentId = Annotated[uuid.UUID, Path(alias="consentId", description="Consent record id (UUID)")]


class ConsentIn(ApiModel):
    scope: ConsentScopeCode
    given: bool
    obtained_at: AwareDatetime
    method: Literal["verbal", "written", "digital"]
    note: str | None = Field(default=None, max_length=4000)


class WithdrawIn(ApiModel):
    at: AwareDatetime
    note: str | None = Field(default=None, max_length=4000)


class MeldcodeIn(ApiModel):
    justification: str = Field(min_length=20, max_length=4000)


class ConsentList(OutModel):
    items: list[ConsentOut]


class AccessLogRow(OutModel):
    seq: int
    at: datetime
    action: str
    client_id: str
    organisation: str
    user_id: str | None = None
    basis: str
    emergency: bool


class AccessLogPage(Page[AccessLogRow]):
    pass


@router.get("/intakes/{id}/consents", response_model=ConsentList, responses=READ, summary="Consent history")
async def list_consents(intake_id: IntakeId, principal: Staff, db: Db) -> dict[str, Any]:
    bundle = await visible_bundle(db, principal, intake_id)
    await audit.record(db, principal, "read", [(intake_id, bundle.access_basis())])
    return {"items": [consent_view(c) for c in bundle.consents]}


@router.post(
    "/intakes/{id}/consents",
    status_code=201,
    response_model=ConsentOut,
    responses={**CREATE, **READ},
    summary="Record consent given (or refused) for one scope",
)
async def add_consent(
    request: Request, intake_id: IntakeId, body: ConsentIn, principal: StaffWriter, db: Db
) -> JSONResponse:
    _, entry = await service.record(
        db,
        principal,
        intake_id,
        caller_region(request, principal),
        scope=body.scope,
        given=body.given,
        obtained_at=body.obtained_at,
        method=body.method,
        note=body.note,
    )
    return JSONResponse(
        ConsentOut.model_validate(consent_view(entry)).model_dump(mode="json", by_alias=True),
        status_code=201,
        headers={"Location": f"/api/v1/intakes/{intake_id}/consents"},
    )


@router.post(
    "/intakes/{id}/consents/{consentId}/withdraw",
    status_code=201,
    response_model=ConsentOut,
    responses=ACTION,
    summary="Withdraw a consent (takes effect at once)",
)
async def withdraw(
    request: Request, intake_id: IntakeId, consent_id: ConsentId, body: WithdrawIn, principal: StaffWriter, db: Db
) -> JSONResponse:
    _, entry = await service.record(
        db,
        principal,
        intake_id,
        caller_region(request, principal),
        scope="",
        given=False,
        obtained_at=body.at,
        method="verbal",
        note=body.note,
        withdraws=consent_id,
    )
    return JSONResponse(
        ConsentOut.model_validate(consent_view(entry)).model_dump(mode="json", by_alias=True),
        status_code=201,
        headers={"Location": f"/api/v1/intakes/{intake_id}/consents"},
    )


@router.post(
    "/intakes/{id}/legal-basis",
    response_model=IntakeView,
    responses=ACTION,
    summary="Record that the meldcode basis applies (needs a safety concern and a justification)",
)
async def record_meldcode(intake_id: IntakeId, body: MeldcodeIn, principal: StaffWriter, db: Db) -> JSONResponse:
    bundle = await service.record_meldcode(db, principal, intake_id, body.justification)
    return await intake_response(db, bundle, principal)


@router.get(
    "/intakes/{id}/access-log",
    response_model=AccessLogPage,
    responses={**LIST, **READ},
    summary="Who accessed this intake, when, on what basis",
)
async def access_log(
    intake_id: IntakeId,
    principal: Staff,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    bundle = await visible_bundle(db, principal, intake_id)
    query = select(AccessLogEntry).where(AccessLogEntry.intake_id == intake_id)
    if cursor:
        (after,) = decode_cursor(cursor, SequenceNumber)
        query = query.where(AccessLogEntry.seq > after)
    rows = list((await db.scalars(query.order_by(AccessLogEntry.seq).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    await audit.record(db, principal, "access_log_read", [(intake_id, bundle.access_basis())])
    return {
        "items": [
            {
                "seq": r.seq,
                "at": r.at,
                "action": r.action,
                "clientId": r.client_id,
                "organisation": r.organisation,
                "userId": r.user_id,
                "basis": r.basis,
                "emergency": r.emergency,
            }
            for r in rows
        ],
        "nextCursor": encode_cursor([rows[-1].seq]) if more else None,
    }
