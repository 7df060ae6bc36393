"""The case around one woman: coordinator, who is involved, case meetings and agreements,
notes and the case file (API.md "The case"). Every change answers with the intake's new
`ETag`; send `If-Match` to be told (412) when someone else changed the case meanwhile."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from app.auth.deps import Staff, StaffWriter, require
from app.auth.principal import Principal
from app.cases import service, timeline
from app.cases.schemas import (
    AgreementDoneIn,
    CaseMeetingIn,
    CaseMeetingOut,
    CaseMeetingPage,
    CoordinatorIn,
    InvolvementEndIn,
    InvolvementIn,
    InvolvementOut,
    InvolvementPage,
    NoteIn,
    NoteOut,
    TimelinePage,
)
from app.db import Db
from app.http.headers import IdempotencyKey, IfMatch
from app.http.idempotency import Idempotency
from app.http.openapi_docs import ACTION, LIST, problems
from app.http.pagination import PageParams
from app.intakes.api import etag
from app.intakes.models import Intake
from app.intakes.schemas import AgreementOut, CoordinatorOut

router = APIRouter(tags=["Casus"])
IntakeId = Annotated[uuid.UUID, Path(alias="id", description="Intake id (UUID)")]
InvolvementId = Annotated[uuid.UUID, Path(alias="involvementId", description="Involvement id (UUID)")]
AgreementId = Annotated[uuid.UUID, Path(alias="agreementId", description="Agreement id (UUID)")]
# Staff, or a programme organisation (what it may see is decided per intake).
StaffOrProgramme = Annotated[Principal, Depends(require("intakes:read", "handoffs:write"))]
WriterOrProgramme = Annotated[Principal, Depends(require("intakes:write", "handoffs:write"))]
CREATE_ACTION = {**ACTION, **problems(422)}


def answer(model: BaseModel, intake: Intake, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        model.model_dump(mode="json", by_alias=True), status_code=status_code, headers={"ETag": etag(intake)}
    )


@router.put(
    "/intakes/{id}/coordinator",
    response_model=CoordinatorOut,
    responses=ACTION,
    summary="Set the coordinator (staff; or take over as the organisation of an accepted handoff)",
)
async def set_coordinator(
    intake_id: IntakeId, body: CoordinatorIn, principal: WriterOrProgramme, db: Db, if_match: IfMatch = None
) -> JSONResponse:
    bundle, row = await service.set_coordinator(db, principal, intake_id, if_match, body)
    out = service.coordinator_out(row)
    assert out is not None
    return answer(out, bundle.intake)


@router.get(
    "/intakes/{id}/involvements",
    response_model=InvolvementPage,
    responses=LIST | problems(404),
    summary="Who is involved (staff; or an organisation with a live handoff)",
)
async def list_involvements(
    intake_id: IntakeId, principal: StaffOrProgramme, db: Db, page: PageParams
) -> InvolvementPage:
    items = await service.read_involvements(db, principal, intake_id)
    shown, next_cursor = timeline.page_of(items, lambda i: (i.since, str(i.id)), page)
    return InvolvementPage(items=[service.involvement_out(i) for i in shown], next_cursor=next_cursor)


async def _idempotent(request: Request, principal: Principal, key: str | None) -> Idempotency:
    # Scoped to this client AND this route and intake: the same key and body on another intake
    # is another request. Hashed, as the owner column holds 80 characters.
    scope = hashlib.sha256(f"{principal.client_id} {request.url.path}".encode()).hexdigest()
    return Idempotency(f"route:{scope}", key, await request.body())


@router.post(
    "/intakes/{id}/involvements",
    status_code=201,
    response_model=InvolvementOut,
    responses=CREATE_ACTION,
    summary="Record someone involved",
)
async def add_involvement(
    request: Request,
    intake_id: IntakeId,
    body: InvolvementIn,
    principal: StaffWriter,
    db: Db,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    idem = await _idempotent(request, principal, idempotency_key)
    if (replay := await idem.replay(db)) is not None:
        return replay
    bundle, row = await service.add_involvement(db, principal, intake_id, if_match, body)
    return await idem.respond(
        db, 201, service.involvement_out(service.recorded_item(row)), {"ETag": etag(bundle.intake)}
    )


@router.post(
    "/intakes/{id}/involvements/{involvementId}/end",
    response_model=InvolvementOut,
    responses=ACTION,
    summary="End an involvement",
)
async def end_involvement(
    intake_id: IntakeId,
    involvement_id: InvolvementId,
    body: InvolvementEndIn,
    principal: StaffWriter,
    db: Db,
    if_match: IfMatch = None,
) -> JSONResponse:
    bundle, item = await service.end_involvement(db, principal, intake_id, involvement_id, if_match, body.until)
    return answer(service.involvement_out(item), bundle.intake)


@router.post(
    "/intakes/{id}/case-meetings",
    status_code=201,
    response_model=CaseMeetingOut,
    responses=CREATE_ACTION,
    summary="Record a case meeting (MDO) with its agreements",
)
async def create_case_meeting(
    request: Request,
    intake_id: IntakeId,
    body: CaseMeetingIn,
    principal: StaffWriter,
    db: Db,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    idem = await _idempotent(request, principal, idempotency_key)
    if (replay := await idem.replay(db)) is not None:
        return replay
    bundle, out = await service.record_meeting(db, principal, intake_id, if_match, body)
    return await idem.respond(db, 201, out, {"ETag": etag(bundle.intake)})


@router.get(
    "/intakes/{id}/case-meetings",
    response_model=CaseMeetingPage,
    responses=LIST | problems(404),
    summary="The case meetings, oldest first",
)
async def list_case_meetings(intake_id: IntakeId, principal: Staff, db: Db, page: PageParams) -> CaseMeetingPage:
    meetings = await service.read_meetings(db, principal, intake_id)
    shown, next_cursor = timeline.page_of(meetings, lambda m: (m.at, str(m.id)), page)
    return CaseMeetingPage(items=shown, next_cursor=next_cursor)


@router.post(
    "/intakes/{id}/agreements/{agreementId}/done",
    response_model=AgreementOut,
    responses=ACTION,
    summary="Mark an agreement done",
)
async def mark_agreement_done(
    intake_id: IntakeId,
    agreement_id: AgreementId,
    body: AgreementDoneIn,
    principal: StaffWriter,
    db: Db,
    if_match: IfMatch = None,
) -> JSONResponse:
    bundle, row = await service.agreement_done(db, principal, intake_id, agreement_id, if_match, body)
    return answer(service.agreement_out(row), bundle.intake)


@router.post(
    "/intakes/{id}/notes",
    status_code=201,
    response_model=NoteOut,
    responses=CREATE_ACTION,
    summary="Add a note to the case file",
)
async def add_note(
    request: Request,
    intake_id: IntakeId,
    body: NoteIn,
    principal: StaffWriter,
    db: Db,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    idem = await _idempotent(request, principal, idempotency_key)
    if (replay := await idem.replay(db)) is not None:
        return replay
    bundle, out = await service.add_note(db, principal, intake_id, if_match, body.text)
    return await idem.respond(db, 201, out, {"ETag": etag(bundle.intake)})


@router.get(
    "/intakes/{id}/timeline",
    response_model=TimelinePage,
    responses=LIST | problems(404),
    summary="The case file, oldest first (staff; a programme sees its own handoff, the involvements, the coordinator)",
)
async def get_timeline(intake_id: IntakeId, principal: StaffOrProgramme, db: Db, page: PageParams) -> TimelinePage:
    return await timeline.read(db, principal, intake_id, page)
