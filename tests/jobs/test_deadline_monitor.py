"""Two monitors on one database emit each deadline event exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.db import session_factory
from app.jobs import monitor
from app.webhooks.models import Event
from tests.support.helpers import auth_for, referral, seed_programmes


async def _tick() -> monitor.TickResult:
    async with session_factory()() as db:
        result = await monitor.tick(db, clock.now())
        await db.commit()
    return result


async def test_two_workers_emit_each_event_once(client, db):
    await seed_programmes()
    referrer = await auth_for(client, "referrer")
    for bsn in ("123456782", "111222333", "999990019"):
        r = await client.post("/api/v1/referrals", json=referral(**{"client.bsn": bsn}), headers=referrer)
        assert r.status_code == 201
    clock.advance(timedelta(days=60))  # every deadline of every intake has passed
    for _ in range(3):  # several rounds of two concurrent workers
        await asyncio.gather(_tick(), _tick())
    counts = dict((await db.execute(select(Event.type, func.count()).group_by(Event.type))).all())
    assert counts["deadline.approaching"] == 9
    assert counts["deadline.breached"] == 9
