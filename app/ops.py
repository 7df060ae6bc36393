"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from app import clock
from app.db import get_engine, session_factory
from app.deadlines.models import Deadline
from app.intakes.models import Intake
from app.metrics import (
    DEADLINES_OPEN,
    DEADLINES_OVERDUE,
    DELIVERIES_BY_STATUS,
    INTAKES_OPEN,
    OUTBOX_LAG,
)
from app.migrate import current_revision
from app.webhooks.models import Delivery

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
async def metrics() -> Response:
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
        for status, count in (await db.execute(select(Intake.status, func.count()).group_by(Intake.status))).all():
            INTAKES_OPEN.labels(status).set(count)
        open_rows = (
            await db.execute(
                select(Deadline.phase, func.count(), func.count().filter(Deadline.due_at < now))
                .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))
                .group_by(Deadline.phase)
            )
        ).all()
        DEADLINES_OPEN.clear()
        DEADLINES_OVERDUE.clear()
        for phase, total, overdue in open_rows:
            DEADLINES_OPEN.labels(phase).set(total)
            DEADLINES_OVERDUE.labels(phase).set(overdue)
        DELIVERIES_BY_STATUS.clear()
        for status, count in (await db.execute(select(Delivery.status, func.count()).group_by(Delivery.status))).all():
            DELIVERIES_BY_STATUS.labels(status).set(count)
        oldest = await db.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.status == "pending", Delivery.next_attempt_at <= now
            )
        )
        OUTBOX_LAG.set((now - oldest).total_seconds() if oldest else 0)
