"""Background workers: the webhook dispatcher, the deadline monitor and retention. Run
in-process by `serve` (RUN_WORKERS=true) or as separate processes with `aanmeldpunt worker`;
any number may run side by side (each claims its work with SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import time

import structlog

from app import clock
from app.audit import checkpoints
from app.audit import keys as audit_keys
from app.config import Settings
from app.db import driver, session_factory
from app.intakes import delivery
from app.jobs import monitor, retention
from app.webhooks import dispatcher

log = structlog.get_logger("app.worker")


async def monitor_once() -> monitor.TickResult:
    async with session_factory()() as db:
        result = await monitor.tick(db, clock.now())
        await db.commit()
    return result


async def retention_once() -> int:
    async with session_factory()() as db:
        erased = await retention.erase_due(db, clock.now())
        await db.commit()
    return erased


async def checkpoint_once(settings: Settings) -> None:
    """A checkpoint of the access log's head, outside the database (app.audit.checkpoints)."""
    async with session_factory()() as db:
        pg = await driver(db)
        await checkpoints.write(pg, settings, settings.database_url or "", audit_keys.keys())
        await db.commit()


async def periodic(settings: Settings, stop: asyncio.Event) -> None:
    next_checkpoint = 0.0
    while not stop.is_set():
        if time.monotonic() >= next_checkpoint:
            try:
                await checkpoint_once(settings)
                next_checkpoint = time.monotonic() + settings.audit_checkpoint_seconds
            except Exception as exc:  # the database may be away, or the file not writable: say so, keep going
                log.warning("audit_checkpoint_failed", error=type(exc).__name__)
        try:
            result = await monitor_once()
            if result.approaching or result.breached or result.agreements_overdue:
                log.info(
                    "deadline_monitor",
                    approaching=result.approaching,
                    breached=result.breached,
                    agreements_overdue=result.agreements_overdue,
                )
            if erased := await retention_once():
                log.info("retention", erased=erased)
        except Exception as exc:  # the database may be away for a while; keep trying
            log.warning("worker_tick_failed", error=type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.worker_poll_seconds)
        except TimeoutError:
            pass


async def run_workers(settings: Settings) -> None:
    stop = asyncio.Event()
    try:
        await asyncio.gather(dispatcher.run(settings, stop, delivery.LOOKUP), periodic(settings, stop))
    finally:
        stop.set()
