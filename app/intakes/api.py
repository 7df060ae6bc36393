"""Intake endpoints: referrals, self-registrations, the worklist and the intake itself."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.auth.deps import Staff, require
from app.auth.principal import Principal
from app.cases import service as cases
from app.cases.models import Agreement, CoordinatorAssignment
from app.cases.referrer_view import ReferralPage, ReferralView, referrer_view, referrer_views
from app.consent.rules import ConsentScope, LegalBasis
from app.db import Db
from app.http.headers import IdempotencyKey
from app.http.idempotency import Idempotency
from app.http.middleware import client_address
from app.http.openapi_docs import CREATE, LIST, READ, problems
from app.http.pagination import Keyset, PageParams
from app.http.problems import invalid, language, not_found
from app.i18n import messages
from app.intakes import self_registration, service
from app.intakes.lifecycle import IntakeStatus
from app.intakes.models import Intake
from app.intakes.programme_view import ProgrammeIntakeView, programme_view
from app.intakes.schemas import (
    IntakePage,
    IntakeSummary,
    IntakeView,
    ReferralIn,
    SelfRegistrationAccepted,
    SelfRegistrationIn,
)
from app.intakes.validation import referral_problems
from app.regions.tenancy import caller_region
from app.vocab import IntakeSource

router = APIRouter()
IntakeId = Annotated[uuid.UUID, Path(alias="id", description="Intake id (UUID)")]
NEWEST_FIRST = Keyset(AwareDatetime, uuid.UUID)  # (receivedAt, id) of the last referral
MOST_URGENT_FIRST = Keyset(AwareDatetime | None, uuid.UUID)  # (nextDeadlineAt, id); no deadline sorts last


# What the worklist shows (and audits by): rows, not ORM objects, for a page read all day.
WORKLIST_COLUMNS = (
    Intake.id,
    Intake.reference,
    Intake.status,
    Intake.source,
    Intake.received_at,
    Intake.client,
    Intake.pregnancy,
    Intake.safety_concern,
    Intake.vulnerability,
    Intake.decided_programme,
    Intake.next_deadline_at,
    Intake.legal_basis,
)


def etag(intake: Intake) -> str:
    return f'"{intake.version}"'


def _referral_id(location: str | None) -> uuid.UUID | None:
    """The referral a stored answer is about, from its Location header."""
    try:
        return uuid.UUID((location or "").rsplit("/", 1)[-1])
    except ValueError:
        return None


@router.post(
    "/referrals",
    status_code=201,
    response_model=ReferralView,
    responses=CREATE,
    tags=["Aanmeldingen"],
    summary="Refer a client",
)
async def create_referral(
    request: Request,
    body: ReferralIn,
    principal: Annotated[Principal, Depends(require("referrals:write"))],
    db: Db,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    now = clock.now()
    problems_found = referral_problems(body, now, now.astimezone(clock.AMSTERDAM).date())
    if problems_found:
        raise invalid(problems_found)
    idem = Idempotency(f"client:{principal.client_id}", idempotency_key, await request.body())
    if (replay := await idem.replay(db)) is not None:
        # The stored answer carries her data again: a read like any other, in the access log.
        replayed = _referral_id(replay.headers.get("location"))
        if replayed is not None:
            await audit.record(db, principal, "idempotent_replay", [(replayed, "referrer_receipt")])
        return replay
    bundle = await service.receive(
        db, body, principal=principal, region=caller_region(request, principal), router=request.app.state.router
    )
    view = await referrer_view(db, bundle.intake)
    location = f"/api/v1/referrals/{bundle.intake.id}"
    return await idem.respond(db, 201, view, {"Location": location})


@router.post(
    "/self-registrations",
    status_code=202,
    response_model=SelfRegistrationAccepted,
    responses={**CREATE, **problems(429)},
    tags=["Aanmeldingen"],
    summary="Register yourself (no account needed)",
    openapi_extra={"security": []},
)
async def create_self_registration(
    request: Request, body: SelfRegistrationIn, db: Db, idempotency_key: IdempotencyKey = None
) -> Response:
    self_registration.check(request, body)
    idem = Idempotency(f"address:{client_address(request.scope)}", idempotency_key, await request.body())
    if (replay := await idem.replay(db)) is not None:
        return replay
    await self_registration.enforce_rate(request)  # counts registrations, not corrected attempts
    bundle = await self_registration.register(db, request, body)
    # The same answer whether or not she was known: only the new reference.
    message = messages.text("self-registration.received", language(request))
    return await idem.respond(db, 202, {"reference": bundle.intake.reference, "message": message})


@router.get(
    "/referrals",
    response_model=ReferralPage,
    responses=LIST,
    tags=["Aanmeldingen"],
    summary="Your organisation's referrals, newest first",
    description=(
        "Each item is the referrer's view, exactly as `GET /referrals/{id}` answers it. `status` filters on the "
        "status that view shows (so a referral without `feedback_to_referrer` consent counts as `received`)."
    ),
)
async def list_referrals(
    principal: Annotated[Principal, Depends(require("referrals:read"))],
    db: Db,
    page: PageParams,
    status: Annotated[IntakeStatus | None, Query(description="Only referrals whose view shows this status.")] = None,
) -> ReferralPage:
    query = select(Intake).where(
        Intake.referrer_organisation_id == principal.organisation_id, Intake.region == principal.region
    )
    if (after := page.after(NEWEST_FIRST)) is not None:
        after_moment, after_uuid = after
        query = query.where(
            or_(Intake.received_at < after_moment, and_(Intake.received_at == after_moment, Intake.id < after_uuid))
        )
    query = query.order_by(Intake.received_at.desc(), Intake.id.desc())
    # The status filter is on the view (consent decides what it shows), so it is applied to
    # built views, a batch at a time, until the page is full or the referrals run out.
    batch = page.fetch if status is None else max(page.fetch, 200)
    found: list[tuple[Intake, ReferralView]] = []
    offset = 0
    while len(found) < page.fetch:
        rows = list((await db.scalars(query.offset(offset).limit(batch))).all())
        views = await referrer_views(db, rows)
        found += [(r, v) for r, v in zip(rows, views, strict=True) if status is None or v.status == status]
        if len(rows) < batch:
            break
        offset += batch
    found, next_cursor = page.cut(found, NEWEST_FIRST, lambda pair: (pair[0].received_at, pair[0].id))
    bases = [(r.id, "feedback_to_referrer" if v.feedback else "referrer_receipt") for r, v in found]
    await audit.record(db, principal, "search", bases)
    return ReferralPage(items=[v for _, v in found], next_cursor=next_cursor)


@router.get(
    "/referrals/{id}",
    response_model=ReferralView,
    responses=READ,
    tags=["Aanmeldingen"],
    summary="What became of a referral you made",
)
async def get_referral(
    intake_id: IntakeId,
    principal: Annotated[Principal, Depends(require("referrals:read"))],
    db: Db,
) -> ReferralView:
    intake = await db.scalar(select(Intake).where(Intake.id == intake_id))
    if (
        intake is None
        or intake.referrer_organisation_id != principal.organisation_id
        or intake.region != principal.region
    ):
        raise not_found("referral")
    view = await referrer_view(db, intake)
    basis = "feedback_to_referrer" if view.feedback else "referrer_receipt"
    await audit.record(db, principal, "read", [(intake_id, basis)])
    return view


@router.get(
    "/intakes",
    response_model=IntakePage,
    responses=LIST,
    tags=["Intakes"],
    summary="The worklist, most urgent first",
)
async def list_intakes(
    principal: Staff,
    db: Db,
    page: PageParams,
    status: Annotated[IntakeStatus | None, Query(description="Only this status (default: every open intake).")] = None,
    programme: Annotated[str | None, Query(max_length=64, description="Decided programme code.")] = None,
    source: Annotated[IntakeSource | None, Query()] = None,
    overdue: Annotated[bool | None, Query(description="Only intakes with a deadline passed unmet.")] = None,
    deadline_before: Annotated[
        datetime | None, Query(alias="deadlineBefore", description="Next deadline before this moment.")
    ] = None,
    coordinator: Annotated[
        str | None,
        Query(max_length=200, description="Cases this user coordinates (`userId`), or `none`: cases without one."),
    ] = None,
    agreements_overdue: Annotated[
        bool | None, Query(alias="agreementsOverdue", description="Only cases with an open agreement past its date.")
    ] = None,
) -> IntakePage:
    now = clock.now()
    query = select(*WORKLIST_COLUMNS).where(Intake.region == principal.region)
    if status == IntakeStatus.CLOSED:
        query = query.where(Intake.closed_at.is_not(None))
    else:
        query = query.where(Intake.closed_at.is_(None))
        if status:
            query = query.where(Intake.status == status)
    if programme:
        query = query.where(Intake.decided_programme == programme)
    if source:
        query = query.where(Intake.source == source)
    if overdue:
        query = query.where(Intake.next_deadline_at < now)
    elif overdue is False:
        query = query.where(or_(Intake.next_deadline_at.is_(None), Intake.next_deadline_at >= now))
    if deadline_before is not None:
        if deadline_before.tzinfo is None:
            raise invalid([{"name": "deadlineBefore", "reason": "Give a time zone offset."}])
        query = query.where(Intake.next_deadline_at < deadline_before)
    if coordinator is not None:
        current = select(CoordinatorAssignment.id).where(
            CoordinatorAssignment.intake_id == Intake.id, CoordinatorAssignment.until.is_(None)
        )
        if coordinator == "none":
            query = query.where(~current.exists())
        else:
            query = query.where(current.where(CoordinatorAssignment.user_id == coordinator).exists())
    if agreements_overdue is not None:
        late = (
            select(Agreement.id)
            .where(
                Agreement.intake_id == Intake.id,
                Agreement.done_at.is_(None),
                Agreement.cancelled_at.is_(None),
                Agreement.due_date < now.astimezone(clock.AMSTERDAM).date(),
            )
            .exists()
        )
        query = query.where(late if agreements_overdue else ~late)
    if (after := page.after(MOST_URGENT_FIRST)) is not None:
        after_moment, after_uuid = after
        if after_moment is None:
            query = query.where(Intake.next_deadline_at.is_(None), Intake.id > after_uuid)
        else:
            query = query.where(
                or_(
                    Intake.next_deadline_at > after_moment,
                    and_(Intake.next_deadline_at == after_moment, Intake.id > after_uuid),
                    Intake.next_deadline_at.is_(None),
                )
            )
    query = query.order_by(Intake.next_deadline_at.asc().nulls_last(), Intake.id).limit(page.fetch)
    rows, next_cursor = page.cut(
        list((await db.execute(query)).all()), MOST_URGENT_FIRST, lambda i: (i.next_deadline_at, i.id)
    )
    items = [
        IntakeSummary(
            id=i.id,
            reference=i.reference,
            status=i.status,
            source=i.source,
            received_at=i.received_at,
            display_name=f"{i.client.get('givenName', '')} {i.client.get('familyName', '')}".strip()
            if i.client
            else None,
            pregnant=bool(i.pregnancy.get("pregnant")),
            safety_concern=i.safety_concern,
            vulnerability=i.vulnerability,
            decided_programme=i.decided_programme,
            next_deadline_at=i.next_deadline_at,
            overdue=i.next_deadline_at is not None and i.next_deadline_at < now,
        )
        for i in rows
    ]
    await audit.record(
        db,
        principal,
        "search",
        [(i.id, ConsentScope.PROCESSING if i.legal_basis == LegalBasis.CONSENT else i.legal_basis) for i in rows],
    )
    return IntakePage(items=items, next_cursor=next_cursor)


@router.get(
    "/intakes/{id}",
    response_model=IntakeView | ProgrammeIntakeView,
    responses=READ,
    tags=["Intakes"],
    summary="One intake (staff, or the organisation it was offered to)",
    description=(
        "Staff get `IntakeView`. A programme organisation (`handoffs:write`) gets `ProgrammeIntakeView`: only "
        "what it needs to make contact, and only its own handoffs; 404 once its handoff is no longer live "
        "(declined, revoked, ended), sharing consent is withdrawn, or the intake is closed."
    ),
)
async def get_intake(
    intake_id: IntakeId,
    principal: Annotated[Principal, Depends(require("intakes:read", "handoffs:write"))],
    db: Db,
) -> JSONResponse:
    bundle = await service.visible_bundle(db, principal, intake_id)
    basis = bundle.access_basis() if principal.is_staff else bundle.decide_basis_for_programme()
    await audit.record(db, principal, "read", [(intake_id, basis)])
    return await intake_response(db, bundle, principal)


async def intake_response(
    db: AsyncSession, bundle: service.IntakeBundle, principal: Principal, status_code: int = 200
) -> JSONResponse:
    """The intake as this caller may see it, with its ETag for a later If-Match: staff the
    whole intake, a programme its own response model (app.intakes.programme_view)."""
    view: IntakeView | ProgrammeIntakeView
    if principal.is_staff:
        orgs = await service.organisation_codes(
            db, {bundle.intake.referrer_organisation_id, *(h.organisation_id for h in bundle.handoffs)}
        )
        coordinator, agreements = await cases.intake_extras(db, bundle.intake.id)
        view = service.staff_view(bundle, orgs).model_copy(
            update={"coordinator": coordinator, "agreements": agreements}
        )
    else:
        coordinator = cases.coordinator_out(await cases.current_coordinator(db, bundle.intake.id))
        view = programme_view(bundle, principal.organisation_id, coordinator)
    return JSONResponse(
        view.model_dump(mode="json", by_alias=True), status_code=status_code, headers={"ETag": etag(bundle.intake)}
    )
