"""Webhook subscriptions (admin): create (secret shown once), list, read, change, delete,
rotate the secret, see deliveries, replay."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, Field
from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.audit.models import AdminAction
from app.auth.deps import Admin
from app.auth.models import Organisation
from app.auth.principal import Principal
from app.config import Settings
from app.db import Db
from app.http.openapi_docs import ACTION, CREATE, LIST, READ, problems
from app.http.pagination import Keyset, PageParams
from app.http.problems import invalid, not_found
from app.http.schemas import ApiModel, OutModel, Page, SequenceNumber
from app.intakes import service as intakes
from app.regions.tenancy import scope
from app.vocab import EventType, OrganisationKind
from app.webhooks import destination
from app.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Event, Subscription
from app.webhooks.outbox import may_receive
from app.webhooks.signing import new_secret

router = APIRouter(tags=["Webhooks"])
SubscriptionId = Annotated[uuid.UUID, Path(alias="id", description="Subscription id (UUID)")]
BY_ID = Keyset(uuid.UUID)
BY_SEQ = Keyset(SequenceNumber)
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]


class SubscriptionIn(ApiModel):
    url: str = Field(max_length=2000, examples=["https://wijkteam.example.nl/hooks/aanmeldpunt"])
    event_types: EventTypes
    organisation: str = Field(max_length=64, description="Code of the organisation that receives.")
    description: str | None = Field(default=None, max_length=500)


class SubscriptionChange(ApiModel):
    url: str | None = Field(default=None, max_length=2000)
    event_types: EventTypes | None = None
    enabled: bool | None = None


class ReplayIn(ApiModel):
    since: AwareDatetime


class SubscriptionOut(OutModel):
    id: uuid.UUID
    url: str
    event_types: list[EventType]
    organisation: str
    description: str | None = None
    enabled: bool
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="`whsec_` + base64; shown only in this answer. Keep it safe.")


class SecretRotated(OutModel):
    secret: str = Field(description="The new secret; the old one also signs until `previousSecretUntil`.")
    previous_secret_until: datetime


class SubscriptionPage(Page[SubscriptionOut]):
    pass


class AttemptOut(OutModel):
    attempted_at: datetime
    status_code: int | None = None
    duration_ms: int
    response_excerpt: str | None = None
    error: str | None = None


class DeliveryOut(OutModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None = None
    created_at: datetime
    finished_at: datetime | None = None
    history: list[AttemptOut]


class DeliveryPage(Page[DeliveryOut]):
    pass


class ReplayResult(OutModel):
    queued: int


def url_problem(url: str, settings: Settings) -> str | None:
    """https only; plain http only to loopback when the setting allows it (development, tests)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        return "An absolute https:// URL."
    if parts.username or parts.password:
        return "No credentials in the URL."
    if destination.port_refusal(parts):
        return "A port from 1 to 65535 (or none)."
    if parts.scheme == "http" and not (settings.webhook_allow_loopback_http and _is_loopback(host)):
        return (
            "Webhook URLs must use https. For development on this machine, the setting "
            "WEBHOOK_ALLOW_LOOPBACK_HTTP=true allows http:// to a loopback address."
        )
    return None


def check_url(url: str, settings: Settings) -> None:
    if reason := url_problem(url, settings):
        raise invalid([{"name": "url", "reason": reason}])


async def destination_problem(url: str, settings: Settings) -> str | None:
    """Why the URL may not be subscribed: its form, or its host resolves to an address that is
    not public (SSRF). Checked again at every delivery (app.webhooks.destination)."""
    if reason := url_problem(url, settings):
        if not await _resolves_to_loopback_only(url, settings):
            return reason
    try:
        refused = await destination.refusal_at_creation(url, allow_loopback=settings.webhook_allow_loopback_http)
    except destination.Refused as error:
        refused = error.reason
    return f"Webhooks are only sent to public addresses: {refused}." if refused else None


async def check_destination(url: str, settings: Settings) -> None:
    """The URL's form and the addresses its host resolves to, as a 400 naming the problem."""
    if reason := await destination_problem(url, settings):
        raise invalid([{"name": "url", "reason": reason}])


async def _resolves_to_loopback_only(url: str, settings: Settings) -> bool:
    """http:// to a name (not only `localhost`) that resolves to loopback alone, when the
    development setting allows loopback."""
    parts = urlsplit(url)
    if not (settings.webhook_allow_loopback_http and parts.scheme == "http" and parts.hostname):
        return False
    if parts.username or parts.password:
        return False
    found = await destination.resolve_addresses(parts.hostname, parts.port or 80)
    return bool(found) and all(a.is_loopback for a in found)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _accesses(intake_ids: set[uuid.UUID | None]) -> list[tuple[uuid.UUID | None, str]]:
    """Access-log rows for an admin's webhook read or replay: one per intake concerned, or one
    without an intake when none is (the read itself is still recorded)."""
    ids = sorted(i for i in intake_ids if i is not None)
    return [(i, audit.ADMIN_BASIS) for i in ids] or [(None, audit.ADMIN_BASIS)]


def _subscriptions(principal: Principal) -> Select[Subscription]:
    """Subscriptions of organisations of the caller's region (app.regions.tenancy)."""
    return select(Subscription).where(Subscription.organisation_id.in_(scope(principal).organisation_ids()))


async def _view(db: AsyncSession, sub: Subscription) -> SubscriptionOut:
    code = await db.scalar(select(Organisation.code).where(Organisation.id == sub.organisation_id))
    return SubscriptionOut(
        id=sub.id,
        url=sub.url,
        event_types=sub.event_types,
        organisation=code or "",
        description=sub.description,
        enabled=sub.enabled,
        disabled_reason=sub.disabled_reason,
        failing_since=sub.failing_since,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
    )


async def _get(
    db: AsyncSession, principal: Principal, subscription_id: uuid.UUID, *, lock: bool = False
) -> Subscription:
    """A subscription of the caller's region; another region's is 404, as if it did not exist."""
    query = _subscriptions(principal).where(Subscription.id == subscription_id)
    sub = await db.scalar(query.with_for_update() if lock else query)
    if sub is None:
        raise not_found("subscription")
    return sub


@router.post(
    "/webhook-subscriptions",
    status_code=201,
    response_model=SubscriptionCreated,
    responses={**CREATE, **problems(404)},
    summary="Subscribe an endpoint (the secret is shown only here)",
)
async def create_subscription(request: Request, body: SubscriptionIn, principal: Admin, db: Db) -> JSONResponse:
    await check_destination(body.url, request.app.state.settings)
    org = await scope(principal).organisation(db, body.organisation)
    now = clock.now()
    sub = Subscription(
        id=uuid.uuid4(),
        organisation_id=org.id,
        url=body.url,
        event_types=list(dict.fromkeys(body.event_types)),
        description=body.description,
        secret=new_secret(),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    db.add(sub)
    await db.flush()
    await audit.record_admin_change(
        db,
        principal,
        AdminAction.SUBSCRIPTION_CREATED,
        f"webhook subscription {sub.id}",
        audit.field_changes(
            {},
            {"url": sub.url, "eventTypes": sub.event_types, "organisation": org.code, "description": sub.description},
        ),
    )
    view = SubscriptionCreated(**dict(await _view(db, sub)), secret=sub.secret)
    return JSONResponse(
        view.model_dump(mode="json", by_alias=True),
        status_code=201,
        headers={"Location": f"/api/v1/webhook-subscriptions/{sub.id}"},
    )


@router.get("/webhook-subscriptions", response_model=SubscriptionPage, responses=LIST, summary="All subscriptions")
async def list_subscriptions(principal: Admin, db: Db, page: PageParams) -> SubscriptionPage:
    query = _subscriptions(principal)
    if (after := page.after(BY_ID)) is not None:
        query = query.where(Subscription.id > after[0])
    rows = list((await db.scalars(query.order_by(Subscription.id).limit(page.fetch))).all())
    rows, next_cursor = page.cut(rows, BY_ID, lambda sub: (sub.id,))
    return SubscriptionPage(items=[await _view(db, sub) for sub in rows], next_cursor=next_cursor)


@router.get("/webhook-subscriptions/{id}", response_model=SubscriptionOut, responses=READ, summary="One subscription")
async def get_subscription(subscription_id: SubscriptionId, principal: Admin, db: Db) -> SubscriptionOut:
    return await _view(db, await _get(db, principal, subscription_id))


@router.patch(
    "/webhook-subscriptions/{id}",
    response_model=SubscriptionOut,
    responses=ACTION,
    summary="Change url, event types, or enable/disable",
)
async def change_subscription(
    request: Request, subscription_id: SubscriptionId, body: SubscriptionChange, principal: Admin, db: Db
) -> SubscriptionOut:
    if body.url is not None:
        await check_destination(body.url, request.app.state.settings)
    sub = await _get(db, principal, subscription_id, lock=True)
    before = {"url": sub.url, "eventTypes": sub.event_types, "enabled": sub.enabled}
    if body.url is not None:
        sub.url = body.url
    if body.event_types is not None:
        sub.event_types = list(dict.fromkeys(body.event_types))
    if body.enabled is not None:
        sub.enabled = body.enabled
        if body.enabled:
            sub.disabled_reason, sub.failing_since = None, None
    sub.updated_at = clock.now()
    await db.flush()
    await audit.record_admin_change(
        db,
        principal,
        AdminAction.SUBSCRIPTION_CHANGED,
        f"webhook subscription {sub.id}",
        audit.field_changes(before, {"url": sub.url, "eventTypes": sub.event_types, "enabled": sub.enabled}),
    )
    return await _view(db, sub)


@router.delete(
    "/webhook-subscriptions/{id}", status_code=204, responses=problems(400, 401, 403, 404, 503), summary="Unsubscribe"
)
async def delete_subscription(subscription_id: SubscriptionId, principal: Admin, db: Db) -> Response:
    sub = await _get(db, principal, subscription_id, lock=True)
    before = {"url": sub.url, "eventTypes": sub.event_types}
    await db.execute(delete(Subscription).where(Subscription.id == subscription_id))
    await audit.record_admin_change(
        db,
        principal,
        AdminAction.SUBSCRIPTION_DELETED,
        f"webhook subscription {subscription_id}",
        [{"path": "(subscription)", "from": before, "to": None}],
    )
    return Response(status_code=204)


@router.post(
    "/webhook-subscriptions/{id}/rotate-secret",
    response_model=SecretRotated,
    responses=ACTION,
    summary="New secret; the old one keeps signing during the overlap",
)
async def rotate_secret(request: Request, subscription_id: SubscriptionId, principal: Admin, db: Db) -> SecretRotated:
    sub = await _get(db, principal, subscription_id, lock=True)
    settings: Settings = request.app.state.settings
    now = clock.now()
    sub.previous_secret = sub.secret
    sub.previous_secret_until = now + timedelta(seconds=settings.webhook_secret_overlap_seconds)
    sub.secret = new_secret()
    sub.updated_at = now
    await db.flush()
    await audit.record_admin_change(
        db,
        principal,
        AdminAction.SUBSCRIPTION_SECRET_ROTATED,
        f"webhook subscription {sub.id}",
        [{"path": "previousSecretUntil", "from": None, "to": audit.jsonable(sub.previous_secret_until)}],
    )
    return SecretRotated(secret=sub.secret, previous_secret_until=sub.previous_secret_until)


@router.get(
    "/webhook-subscriptions/{id}/deliveries",
    response_model=DeliveryPage,
    responses=READ,
    summary="Recent deliveries with their attempts (newest first)",
)
async def list_deliveries(
    subscription_id: SubscriptionId,
    principal: Admin,
    db: Db,
    page: PageParams,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> DeliveryPage:
    await _get(db, principal, subscription_id)
    query = (
        select(Delivery, Event.type)
        .join(Event, Event.id == Delivery.event_id)
        .where(Delivery.subscription_id == subscription_id)
    )
    if status:
        query = query.where(Delivery.status == status)
    if (before := page.after(BY_SEQ)) is not None:
        query = query.where(Delivery.event_seq < before[0])
    found = (await db.execute(query.order_by(Delivery.event_seq.desc()).limit(page.fetch))).all()
    rows, next_cursor = page.cut(found, BY_SEQ, lambda row: (row[0].event_seq,))
    attempts: dict[uuid.UUID, list[DeliveryAttempt]] = {}
    if rows:
        for attempt in (
            await db.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id.in_([d.id for d, _ in rows]))
                .order_by(DeliveryAttempt.attempted_at)
            )
        ).all():
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    # Which intakes' events were looked at: an access to each, in the access log.
    await audit.record(db, principal, "webhook_delivery_read", _accesses({d.intake_id for d, _ in rows}))
    items = [
        DeliveryOut(
            id=d.id,
            event_id=d.event_id,
            event_type=event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            created_at=d.created_at,
            finished_at=d.finished_at,
            history=[AttemptOut.model_validate(a, from_attributes=True) for a in attempts.get(d.id, [])],
        )
        for d, event_type in rows
    ]
    return DeliveryPage(items=items, next_cursor=next_cursor)


@router.post(
    "/webhook-subscriptions/{id}/replay",
    response_model=ReplayResult,
    responses=ACTION,
    summary="Send again every event since a moment that this subscription may see",
)
async def replay(subscription_id: SubscriptionId, body: ReplayIn, principal: Admin, db: Db) -> ReplayResult:
    sub = await _get(db, principal, subscription_id)
    kind = await db.scalar(select(Organisation.kind).where(Organisation.id == sub.organisation_id)) or ""
    events = (
        await db.scalars(
            select(Event)
            .where(
                Event.region == principal.region,  # never another region's events
                Event.occurred_at >= body.since,
                Event.type.in_(sub.event_types),
            )
            .order_by(Event.seq)
            .limit(10_000)
        )
    ).all()
    now = clock.now()
    rows = []
    queued: list[Event] = []
    for event in events:
        if event.intake_id is not None and kind != OrganisationKind.AANMELDPUNT:
            bundle = await intakes.load_bundle(db, event.intake_id)
            if bundle is None or not may_receive(
                kind,
                sub.organisation_id,
                bundle.audience(handoff_id=(event.data or {}).get("handoffId")),
                event_type=event.type,
            ):
                continue  # who may see what is decided now, not when the event happened
        elif event.intake_id is None and kind != OrganisationKind.AANMELDPUNT:
            continue
        queued.append(event)
        rows.append(
            {
                "id": uuid.uuid4(),
                "event_id": event.id,
                "event_seq": event.seq,
                "subscription_id": sub.id,
                "intake_id": event.intake_id,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    if rows:
        statement = insert(Delivery).values(rows)
        await db.execute(
            statement.on_conflict_do_update(
                constraint="uq_webhook_deliveries_event_sub",
                set_={
                    "status": DeliveryStatus.PENDING,
                    "next_attempt_at": now,
                    "lease_until": None,
                    "finished_at": None,
                    "notice": False,
                },
            )
        )
    await audit.record_admin_change(
        db,
        principal,
        AdminAction.SUBSCRIPTION_REPLAY_QUEUED,
        f"webhook subscription {sub.id}",
        [
            {"path": "since", "from": None, "to": body.since},
            {"path": "queued", "from": None, "to": len(rows)},
        ],
    )
    # The replay sends these intakes' events again: an access to each, in the access log.
    await audit.record(db, principal, "webhook_replay", _accesses({event.intake_id for event in queued}))
    return ReplayResult(queued=len(rows))
