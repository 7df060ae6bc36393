"""Idempotency-Key: replay within 24 h, 422 for another body, 409 while in flight."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.intakes.models import Intake
from tests.support.helpers import auth_for, referral, seed_programmes


@pytest.fixture
async def referrer(client):
    await seed_programmes()
    return await auth_for(client, "referrer")


async def count(db) -> int:
    return await db.scalar(select(func.count()).select_from(Intake))


async def test_same_key_same_body_replays(client, referrer, db):
    headers = {**referrer, "Idempotency-Key": "key-1"}
    first = await client.post("/api/v1/referrals", json=referral(), headers=headers)
    second = await client.post("/api/v1/referrals", json=referral(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers.get("idempotent-replayed") == "true"
    assert await count(db) == 1


async def test_same_key_other_body_is_422(client, referrer):
    headers = {**referrer, "Idempotency-Key": "key-2"}
    await client.post("/api/v1/referrals", json=referral(), headers=headers)
    other = await client.post("/api/v1/referrals", json=referral(narrative="anders"), headers=headers)
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"


async def test_key_expires_after_24_hours(client, referrer, db):
    headers = {**referrer, "Idempotency-Key": "key-3"}
    await client.post("/api/v1/referrals", json=referral(), headers=headers)
    clock.advance(timedelta(hours=25))
    again = await client.post("/api/v1/referrals", json=referral(), headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert await count(db) == 2


async def test_keys_are_per_client(client, referrer, db):
    other = await auth_for(client, "referrer2")
    await client.post("/api/v1/referrals", json=referral(), headers={**referrer, "Idempotency-Key": "k"})
    r = await client.post("/api/v1/referrals", json=referral(), headers={**other, "Idempotency-Key": "k"})
    assert r.status_code == 201 and await count(db) == 2


async def test_in_flight_is_409(client, referrer, app):
    """Hold the key's lock in another transaction, as a request still in flight does."""
    from sqlalchemy import text

    from app.db import session_factory

    cid = None
    async with session_factory()() as holder:
        # find the caller's client id from a token request made by the fixture
        listing = await holder.execute(text("SELECT client_id FROM api_clients ORDER BY created_at DESC LIMIT 1"))
        cid = listing.scalar_one()
        await holder.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"client:{cid}\x1fbusy"}
        )
        r = await asyncio.wait_for(
            client.post("/api/v1/referrals", json=referral(), headers={**referrer, "Idempotency-Key": "busy"}), 10
        )
        assert r.status_code == 409
        await holder.rollback()
    r = await client.post("/api/v1/referrals", json=referral(), headers={**referrer, "Idempotency-Key": "busy"})
    assert r.status_code == 201
