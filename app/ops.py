"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import hmac

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from app import clock
from app.auth.models import Organisation
from app.db import get_engine, session_factory
from app.deadlines.models import Deadline
from app.http.problems import Problem, not_found
from app.intakes.models import Intake
from app.metrics import (
    DEADLINES_OPEN,
    DEADLINES_OVERDUE,
    DELIVERIES_BY_STATUS,
    INTAKES_OPEN,
    OUTBOX_LAG,
)
from app.migrate import current_revision
from app.webhooks.models import Delivery, DeliveryStatus, Subscription

router = APIRouter(include_in_schema=False)
log = structlog.get_logger("app.ops")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    try:
        revision = await current_revision(get_engine())
    except Exception:  # any failure to reach the database means not ready
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"}, status_code=503, headers={"Retry-After": "5"}
        )
    head = request.app.state.migration_head
    if revision != head:
        return JSONResponse({"status": "unavailable", "database": "migrations pending"}, status_code=503)
    return JSONResponse({"status": "ready", "revision": revision})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text, only for a scraper with METRICS_TOKEN (figures per region are not public)."""
    expected = request.app.state.settings.metrics_token
    if not expected:
        raise not_found()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise Problem(
            401,
            "Unauthorized",
            "Send the scrape token as a Bearer token.",
            "unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    try:
        await _refresh_gauges()
    except Exception as exc:  # the process metrics are still worth serving without the database
        log.warning("metrics_gauges_unavailable", error=type(exc).__name__)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _refresh_gauges() -> None:
    now = clock.now()
    async with session_factory()() as db:
        await db.execute(text("SET LOCAL statement_timeout = 2000"))
        INTAKES_OPEN.clear()
        intakes = select(Intake.region, Intake.status, func.count()).group_by(Intake.region, Intake.status)
        for region, status, count in (await db.execute(intakes)).all():
            INTAKES_OPEN.labels(region, status).set(count)
        open_rows = (
            await db.execute(
                select(Intake.region, Deadline.phase, func.count(), func.count().filter(Deadline.due_at < now))
                .join(Intake, Intake.id == Deadline.intake_id)
                .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))
                .group_by(Intake.region, Deadline.phase)
            )
        ).all()
        DEADLINES_OPEN.clear()
        DEADLINES_OVERDUE.clear()
        for region, phase, total, overdue in open_rows:
            DEADLINES_OPEN.labels(region, phase).set(total)
            DEADLINES_OVERDUE.labels(region, phase).set(overdue)
        DELIVERIES_BY_STATUS.clear()
        deliveries = (
            select(Organisation.region, Delivery.status, func.count())
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .join(Organisation, Organisation.id == Subscription.organisation_id)
            .group_by(Organisation.region, Delivery.status)
        )
        for region, status, count in (await db.execute(deliveries)).all():
            DELIVERIES_BY_STATUS.labels(region, status).set(count)
        oldest = await db.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now
            )
        )
        OUTBOX_LAG.set((now - oldest).total_seconds() if oldest else 0)
