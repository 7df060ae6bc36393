"""Consent records of an intake, withdrawal, the meldcode basis, and the intake's access log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field
from sqlalchemy import select

from app.audit import service as audit
from app.audit.models import AccessLogEntry
from app.auth.deps import Staff, StaffWriter
from app.consent.models import ConsentRecord, LegalBasisRecord
from app.consent.rules import ConsentMethod, ConsentScope, LegalBasisSource, LegalBasisStatus
from app.db import Db
from app.http.headers import IfMatch
from app.http.openapi_docs import ACTION, CREATE, LIST, READ
from app.http.pagination import Keyset, Pagination, page_params
from app.http.schemas import ActorOut, ApiModel, OutModel, Page, SequenceNumber
from app.intakes import consents
from app.intakes.api import etag
from app.intakes.schemas import ConsentOut
from app.intakes.service import IntakeBundle, consent_view, visible_bundle
from app.regions.tenancy import caller_region

router = APIRouter(tags=["Toestemming en audit"])
IntakeId = Annotated[uuid.UUID, Path(alias="id", description="Intake id (UUID)")]
ConsentId = Annotated[uuid.UUID, Path(alias="consentId", description="Consent record id (UUID)")]
LegalBasisId = Annotated[uuid.UUID, Path(alias="legalBasisId", description="Legal basis record id (UUID)")]
BY_SEQ = Keyset(SequenceNumber)


class ConsentIn(ApiModel):
    scope: ConsentScope
    given: bool
    obtained_at: AwareDatetime
    method: ConsentMethod
    note: str | None = Field(default=None, max_length=4000)


class WithdrawIn(ApiModel):
    at: AwareDatetime
    note: str | None = Field(default=None, max_length=4000)


class LegalBasisIn(ApiModel):
    """The meldcode basis (meldrecht, art. 5.2.6 Wmo 2015): needs a safety concern, a written
    justification, and a second staff user's confirmation before it applies."""

    basis: Literal["meldcode"]
    justification: str = Field(min_length=20, max_length=4000)


class LegalBasisOut(OutModel):
    id: uuid.UUID
    intake_id: uuid.UUID
    basis: Literal["meldcode"]
    source: LegalBasisSource = Field(description="`staff` (four eyes) or `referral` (the referrer's own decision).")
    status: LegalBasisStatus = Field(description="`pending` overrides nothing; `confirmed` applies.")
    justification: str | None = None
    requested_at: datetime
    requested_by: ActorOut
    confirmed_at: datetime | None = None
    confirmed_by: ActorOut | None = None


class LegalBasisList(OutModel):
    items: list[LegalBasisOut]


def legal_basis_out(entry: LegalBasisRecord) -> LegalBasisOut:
    return LegalBasisOut(
        id=entry.id,
        intake_id=entry.intake_id,
        basis="meldcode",
        source=LegalBasisSource(entry.source),
        status=LegalBasisStatus(entry.status),
        justification=entry.justification,
        requested_at=entry.requested_at,
        requested_by=ActorOut(
            organisation=entry.requested_by_organisation, client=entry.requested_by_client, user=entry.requested_by_user
        ),
        confirmed_at=entry.confirmed_at,
        confirmed_by=ActorOut(
            organisation=entry.confirmed_by_organisation or "",
            client=entry.confirmed_by_client,
            user=entry.confirmed_by_user,
        )
        if entry.confirmed_by_client
        else None,
    )


def _legal_basis_response(bundle: IntakeBundle, entry: LegalBasisRecord, status_code: int) -> JSONResponse:
    headers = {"ETag": etag(bundle.intake)}
    if status_code == 201:
        headers["Location"] = f"/api/v1/intakes/{entry.intake_id}/legal-basis/{entry.id}"
    return JSONResponse(legal_basis_out(entry).model_dump(mode="json", by_alias=True), status_code, headers)


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
async def list_consents(intake_id: IntakeId, principal: Staff, db: Db) -> ConsentList:
    bundle = await visible_bundle(db, principal, intake_id)
    await audit.record(db, principal, "read", [(intake_id, bundle.access_basis())])
    return ConsentList(items=[consent_view(c) for c in bundle.consents])


def _created(intake_id: uuid.UUID, entry: ConsentRecord) -> JSONResponse:
    return JSONResponse(
        consent_view(entry).model_dump(mode="json", by_alias=True),
        status_code=201,
        headers={"Location": f"/api/v1/intakes/{intake_id}/consents"},
    )


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
    _, entry = await consents.record(
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
    return _created(intake_id, entry)


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
    _, entry = await consents.record(
        db,
        principal,
        intake_id,
        caller_region(request, principal),
        scope="",
        given=False,
        obtained_at=body.at,
        method=ConsentMethod.VERBAL,  # a withdrawal is a record of its own; its method is not asked
        note=body.note,
        withdraws=consent_id,
    )
    return _created(intake_id, entry)


@router.post(
    "/intakes/{id}/legal-basis",
    status_code=201,
    response_model=LegalBasisOut,
    responses=ACTION,
    summary="Record that the meldcode basis applies: pending until another staff user confirms",
)
async def record_legal_basis(
    intake_id: IntakeId, body: LegalBasisIn, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    bundle, entry = await consents.request_legal_basis(
        db, principal, intake_id, if_match, basis=body.basis, justification=body.justification
    )
    return _legal_basis_response(bundle, entry, 201)


@router.post(
    "/intakes/{id}/legal-basis/{legalBasisId}/confirm",
    response_model=LegalBasisOut,
    responses=ACTION,
    summary="Confirm a pending meldcode basis (four eyes: another staff user than who recorded it)",
)
async def confirm_legal_basis(
    intake_id: IntakeId, legal_basis_id: LegalBasisId, principal: StaffWriter, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    bundle, entry = await consents.confirm_legal_basis(db, principal, intake_id, legal_basis_id, if_match)
    return _legal_basis_response(bundle, entry, 200)


@router.get(
    "/intakes/{id}/legal-basis",
    response_model=LegalBasisList,
    responses=READ,
    summary="Legal bases other than consent: requests, confirmations, the referrer's meldcode",
)
async def list_legal_bases(intake_id: IntakeId, principal: Staff, db: Db) -> LegalBasisList:
    bundle = await visible_bundle(db, principal, intake_id)
    await audit.record(db, principal, "read", [(intake_id, bundle.access_basis())])
    return LegalBasisList(items=[legal_basis_out(e) for e in await consents.legal_bases(db, intake_id)])


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
    page: Annotated[Pagination, page_params(default=100, maximum=500)],
) -> AccessLogPage:
    bundle = await visible_bundle(db, principal, intake_id)
    query = select(AccessLogEntry).where(AccessLogEntry.intake_id == intake_id)
    if (after := page.after(BY_SEQ)) is not None:
        query = query.where(AccessLogEntry.seq > after[0])
    rows = list((await db.scalars(query.order_by(AccessLogEntry.seq).limit(page.fetch))).all())
    rows, next_cursor = page.cut(rows, BY_SEQ, lambda entry: (entry.seq,))
    await audit.record(db, principal, "access_log_read", [(intake_id, bundle.access_basis())])
    return AccessLogPage(
        items=[AccessLogRow.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor
    )
