"""The webhook dispatcher: any number of replicas side by side.

1. Claim due deliveries with FOR UPDATE SKIP LOCKED and set a lease; commit (no row lock is
   held during the HTTP call). A replica that dies leaves its lease to run out; then another
   one claims the rows again: at-least-once, never lost.
2. Per subscription and intake, a delivery waits while an earlier one is still pending.
3. POST signed per Standard Webhooks; record the attempt and the outcome in a new transaction.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import asyncpg
import httpx
import structlog
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.models import Organisation
from app.config import Settings
from app.db import session_factory
from app.metrics import WEBHOOK_DELIVERIES
from app.vocab import EventType, OrganisationKind
from app.webhooks import destination
from app.webhooks.events import EndpointDisabledData
from app.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Event, Subscription
from app.webhooks.outbox import Audience, emit, may_receive
from app.webhooks.signing import signature_header

log = structlog.get_logger("app.webhooks")

# Seconds to wait after the 1st, 2nd, … failed attempt (API.md); then the delivery has failed.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DISABLE_AFTER = timedelta(days=5)
EXCERPT = 200
# At most this much of an answer is read (an excerpt of EXCERPT characters, UTF-8).
EXCERPT_BYTES = 4 * EXCERPT

_CLAIM = text(
    """
    UPDATE webhook_deliveries d SET lease_until = :lease_until
    WHERE d.id IN (
        SELECT c.id FROM webhook_deliveries c
        JOIN webhook_subscriptions s ON s.id = c.subscription_id AND s.enabled
        WHERE c.status = 'pending' AND c.next_attempt_at <= :now
          AND (c.lease_until IS NULL OR c.lease_until < :now)
          AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries e
              WHERE e.status = 'pending' AND e.subscription_id = c.subscription_id
                AND e.intake_id = c.intake_id AND e.event_seq < c.event_seq)
        ORDER BY c.next_attempt_at
        LIMIT :batch
        FOR UPDATE OF c SKIP LOCKED)
    RETURNING d.id
    """
)


def retry_delay(attempts: int, retry_after: float | None, rng: random.Random) -> float | None:
    """Seconds until the next attempt after `attempts` failures, or None when it has failed."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    base = RETRY_SCHEDULE[attempts - 1] * rng.uniform(0.8, 1.2)
    if retry_after is not None:
        base = max(base, min(retry_after, 86_400.0))
    return base


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None


class IntakeLookup(Protocol):
    """What delivery asks of the intake as it is now. The intakes capability sits above
    webhooks, so it is handed in by the composition root (app.worker passes
    app.intakes.delivery.LOOKUP) instead of imported here."""

    async def audience(self, db: AsyncSession, intake_id: uuid.UUID, *, handoff_id: object = None) -> Audience | None:
        """Who may hear of the intake now (None: there is no such intake)."""
        ...

    async def own_referral(
        self, db: AsyncSession, intake_id: uuid.UUID, organisation_id: uuid.UUID
    ) -> tuple[uuid.UUID, str] | None:
        """This referrer's own referral (id, reference) among the intake and those merged
        into it, the intake itself first (None: it referred none of them)."""
        ...

    async def for_programme(
        self, db: AsyncSession, intake_id: uuid.UUID, organisation_id: uuid.UUID, data: dict[str, Any]
    ) -> dict[str, Any]:
        """A programme organisation's copy of an event's data: only its own programme named."""
        ...


@dataclass
class Job:
    delivery_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    intake_id: uuid.UUID | None
    attempts: int
    url: str
    secrets: list[str]
    body: bytes
    subscription_id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_kind: str
    same_region: bool = True
    notice: bool = False


@dataclass
class Outcome:
    status_code: int | None
    duration_ms: int
    excerpt: str | None
    error: str | None
    retry_after: str | None


async def claim(db: AsyncSession, settings: Settings, now: datetime, intakes: IntakeLookup) -> list[Job]:
    ids = list(
        (
            await db.execute(
                _CLAIM,
                {
                    "now": now,
                    "lease_until": now + timedelta(seconds=settings.webhook_lease_seconds),
                    "batch": settings.webhook_batch_size,
                },
            )
        ).scalars()
    )
    if not ids:
        return []
    rows = await db.execute(
        select(Delivery, Event, Subscription, Organisation.kind, Organisation.region)
        .join(Event, Event.id == Delivery.event_id)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(Organisation, Organisation.id == Subscription.organisation_id)
        .where(Delivery.id.in_(ids))
    )
    jobs = []
    for delivery, event, sub, kind, org_region in rows.all():
        in_use = [sub.secret]
        if sub.previous_secret and sub.previous_secret_until and sub.previous_secret_until > now:
            in_use.append(sub.previous_secret)
        data = dict(event.data)
        if event.intake_id is not None:
            # The receiver fetches details with its own token; a referrer through its referral view.
            as_referrer = await _hears_as_referrer(db, intakes, event.intake_id, sub.organisation_id, kind)
            resource = "referrals" if as_referrer else "intakes"
            about = event.intake_id
            if as_referrer:
                about = await _own_referral(db, intakes, event.intake_id, sub.organisation_id, data)
            elif kind != OrganisationKind.AANMELDPUNT and data.get("programme") is not None:
                # A programme hears only its own programme, never which other one was chosen.
                data = await intakes.for_programme(db, event.intake_id, sub.organisation_id, data)
            data["url"] = f"{settings.public_base_url.rstrip('/')}/api/v1/{resource}/{about}"
        body = json.dumps(
            {"type": event.type, "timestamp": clock.iso_z(event.occurred_at), "data": data},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        jobs.append(
            Job(
                delivery.id,
                event.id,
                event.type,
                event.intake_id,
                delivery.attempts,
                sub.url,
                in_use,
                body,
                sub.id,
                sub.organisation_id,
                kind,
                event.region == org_region,
                delivery.notice,
            )
        )
    return jobs


async def _hears_as_referrer(
    db: AsyncSession, intakes: IntakeLookup, intake_id: uuid.UUID, organisation_id: uuid.UUID, kind: str
) -> bool:
    """Which copy an organisation gets follows its relation to the intake, as the audience rule
    does (app.consent.audience.may_hear), not its kind: a wijkteam that referred her and has no
    live handoff hears as her referrer (its referral's id, reference and view)."""
    if kind == OrganisationKind.REFERRER:
        return True
    if kind == OrganisationKind.AANMELDPUNT:
        return False
    audience = await intakes.audience(db, intake_id)
    return (
        audience is not None
        and audience.is_referrer(organisation_id)
        and organisation_id not in audience.handoff_organisations
    )


async def _own_referral(
    db: AsyncSession, intakes: IntakeLookup, intake_id: uuid.UUID, organisation_id: uuid.UUID, data: dict[str, Any]
) -> uuid.UUID:
    """A referrer whose referral was merged into this case hears of the case as of its own
    referral: the id and reference it knows, and the URL of its referrer's view."""
    own = await intakes.own_referral(db, intake_id, organisation_id)
    if own is None or own[0] == intake_id:
        return intake_id
    data["intakeId"], data["reference"] = str(own[0]), own[1]
    return own[0]


async def still_allowed(db: AsyncSession, job: Job, intakes: IntakeLookup) -> bool:
    """The audience rule is applied again at delivery, to every audience and event type, with
    the intake as it is now: a consent withdrawn (or a handoff ended, or the intake closed)
    after the event was queued stops it. A notice of lost access is sent only to the
    organisation it was queued for as such (`Delivery.notice`). An event never reaches
    another region's subscription, whatever put the delivery there."""
    if not job.same_region:
        return False
    if job.organisation_kind == OrganisationKind.AANMELDPUNT:
        return True
    if job.intake_id is None:
        return False  # events without an intake are for the aanmeldpunt only
    # An event about one handoff stays with that handoff's organisation (among programmes).
    handoff_id = json.loads(job.body).get("data", {}).get("handoffId")
    audience = await intakes.audience(db, job.intake_id, handoff_id=handoff_id)
    return audience is not None and may_receive(
        job.organisation_kind,
        job.organisation_id,
        audience,
        event_type=job.event_type,
        notice=job.notice,
    )


async def post(client: httpx.AsyncClient, job: Job, settings: Settings) -> Outcome:
    """Send one delivery to the address its URL resolves to now, after the address policy
    allowed it (app.webhooks.address_policy); a refused address is recorded as the attempt's
    error and nothing is contacted."""
    started = time.perf_counter()
    try:
        target = await destination.resolve(job.url, allow_loopback=settings.webhook_allow_loopback_http)
    except destination.Refused as refused:
        log.warning("webhook_destination_refused", subscription=str(job.subscription_id), reason=refused.reason)
        return Outcome(None, _ms(started), None, f"refused: {refused.reason}", None)
    timestamp = int(time.time())
    headers = {
        "host": target.host_header,
        "content-type": "application/json",
        "user-agent": "centraal-aanmeldpunt-webhooks/1",
        "accept-encoding": "identity",  # the excerpt is read raw: no compressed answer to inflate
        "webhook-id": str(job.event_id),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(job.secrets, str(job.event_id), timestamp, job.body),
    }
    # Connect to the checked address; Host and the TLS server name stay the URL's host name.
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    request = client.build_request("POST", target.url, content=job.body, headers=headers, extensions=extensions)
    # One deadline for the whole answer: httpx's timeout is per read, so a receiver dripping a
    # byte at a time (or sending without end) would hold the delivery, and with it the batch.
    deadline = asyncio.get_running_loop().time() + settings.webhook_timeout_seconds
    try:
        async with asyncio.timeout_at(deadline):
            response = await client.send(request, stream=True)
    except TimeoutError:
        return Outcome(None, _ms(started), None, "Timeout", None)
    except httpx.HTTPError as exc:
        return Outcome(None, _ms(started), None, type(exc).__name__, None)
    raw = b""
    try:
        # Only the excerpt is kept, so only that much is read; the status already counts.
        async with asyncio.timeout_at(deadline):
            if response.is_stream_consumed:  # a transport that answered with the whole body
                raw = response.content[:EXCERPT_BYTES]
            else:
                async for chunk in response.aiter_raw():
                    raw += chunk
                    if len(raw) >= EXCERPT_BYTES:
                        break
    except (TimeoutError, httpx.HTTPError):
        pass
    finally:
        await response.aclose()
    excerpt = raw.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT] or None
    return Outcome(response.status_code, _ms(started), excerpt, None, response.headers.get("retry-after"))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def record(db: AsyncSession, job: Job, outcome: Outcome, rng: random.Random) -> str:
    now = clock.now()
    db.add(
        DeliveryAttempt(
            id=uuid.uuid4(),
            delivery_id=job.delivery_id,
            attempted_at=now,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
        )
    )
    delivery = await db.get(Delivery, job.delivery_id, with_for_update=True)
    sub = await db.get(Subscription, job.subscription_id, with_for_update=True)
    if delivery is None or sub is None or delivery.status != DeliveryStatus.PENDING:
        return "gone"  # deleted subscription, or another replica finished it after our lease ran out
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    delivery.lease_until = None
    code = outcome.status_code
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.finished_at = "delivered", now
        sub.failing_since = None
        return "delivered"
    if code == 410:
        delivery.status, delivery.finished_at = "failed", now
        await disable(db, sub, "The endpoint answered 410 Gone.")
        return "gone_410"
    sub.failing_since = sub.failing_since or now
    delay = retry_delay(delivery.attempts, parse_retry_after(outcome.retry_after, now), rng)
    if delay is None:
        delivery.status, delivery.finished_at = "failed", now
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    if now - sub.failing_since >= DISABLE_AFTER:
        await disable(db, sub, "The endpoint failed for 5 days.")
    return "failed" if delay is None else "retry"


async def disable(db: AsyncSession, sub: Subscription, reason: str) -> None:
    if not sub.enabled:
        return
    sub.enabled = False
    sub.disabled_reason = reason
    sub.updated_at = clock.now()
    await db.flush()
    region = await db.scalar(select(Organisation.region).where(Organisation.id == sub.organisation_id))
    await emit(
        db,
        EventType.ENDPOINT_DISABLED,
        EndpointDisabledData(subscription_id=sub.id, reason=reason),
        intake_id=None,
        region=region or "",
        audience=None,
        only_organisation_kind=OrganisationKind.AANMELDPUNT,
    )
    log.warning("webhook_endpoint_disabled", subscription=str(sub.id))


async def deliver_once(client: httpx.AsyncClient, settings: Settings, rng: random.Random, intakes: IntakeLookup) -> int:
    """Claim one batch, deliver it concurrently, record each outcome. Returns how many were claimed."""
    factory = session_factory()
    async with factory() as db:
        jobs = await claim(db, settings, clock.now(), intakes)
        allowed = {job.delivery_id: await still_allowed(db, job, intakes) for job in jobs}
        suppressed = [j.delivery_id for j in jobs if not allowed[j.delivery_id]]
        if suppressed:
            await db.execute(
                update(Delivery)
                .where(Delivery.id.in_(suppressed))
                .values(status="suppressed", finished_at=clock.now(), lease_until=None)
            )
            WEBHOOK_DELIVERIES.labels("suppressed").inc(len(suppressed))
        await db.commit()
    sendable = [j for j in jobs if allowed[j.delivery_id]]

    async def one(job: Job) -> None:
        outcome = await post(client, job, settings)
        async with factory() as db:
            result = await record(db, job, outcome, rng)
            await db.commit()
        WEBHOOK_DELIVERIES.labels(result).inc()

    await asyncio.gather(*(one(j) for j in sendable))
    return len(jobs)


def raw_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def run(settings: Settings, stop: asyncio.Event, intakes: IntakeLookup) -> None:
    """Deliver until `stop`: woken by NOTIFY on new deliveries, polling as the fallback."""
    wake = asyncio.Event()
    listener: asyncpg.Connection | None = None
    rng = random.Random()
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    async with httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds, follow_redirects=False, limits=limits
    ) as client:
        try:
            while not stop.is_set():
                if listener is None or listener.is_closed():
                    listener = await _listen(settings, wake)
                try:
                    claimed = await deliver_once(client, settings, rng, intakes)
                except Exception as exc:  # the database may be away for a while; keep trying
                    log.warning("dispatcher_tick_failed", error=type(exc).__name__)
                    claimed = 0
                if claimed:
                    continue  # there may be more due right now
                wake.clear()
                try:
                    await asyncio.wait_for(wake.wait(), timeout=settings.worker_poll_seconds)
                except TimeoutError:
                    pass
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()


async def _listen(settings: Settings, wake: asyncio.Event) -> asyncpg.Connection | None:
    if settings.database_url is None:
        return None
    try:
        conn = await asyncpg.connect(raw_dsn(settings.database_url), timeout=5)
        await conn.add_listener("webhook_deliveries", lambda *_: wake.set())
        return conn
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        log.warning("dispatcher_listen_failed", error=type(exc).__name__)
        return None
