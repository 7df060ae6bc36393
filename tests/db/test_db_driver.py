"""The shared database plumbing of the hot paths (app/db.py): plain SQL on the driver
connection stays inside the request's one transaction, sees the session's pending ORM
changes, inserts exactly what SQLAlchemy would, and a pooled connection the database
closed is replaced at checkout instead of failing a request."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, select, text

from app import clock
from app.auth.models import Organisation
from app.db import driver, insert_new, session_factory
from app.intakes.models import Intake
from tests.support.helpers import auth_for


def _organisation(code: str) -> Organisation:
    return Organisation(id=uuid.uuid4(), code=code, name=code, kind="referrer", region="rotterdam")


async def test_plain_sql_on_the_driver_is_undone_with_the_session(app: Any) -> None:
    code = f"org-{uuid.uuid4().hex[:8]}"
    async with session_factory()() as db:
        pg = await driver(db)  # the first statement of the transaction goes through the driver
        await pg.execute(
            "INSERT INTO organisations (id, code, name, kind, region) VALUES ($1, $2, $2, 'referrer', 'rotterdam')",
            uuid.uuid4(),
            code,
        )
        # The session sees it: one transaction, one connection.
        assert await db.scalar(select(Organisation.code).where(Organisation.code == code)) == code
        await db.rollback()
    async with session_factory()() as db:
        assert await db.scalar(select(Organisation.code).where(Organisation.code == code)) is None


async def test_the_driver_sees_pending_orm_changes_and_commits_with_the_session(app: Any) -> None:
    code = f"org-{uuid.uuid4().hex[:8]}"
    async with session_factory()() as db:
        await db.execute(text("SELECT 1"))  # a transaction begun by SQLAlchemy first
        db.add(_organisation(code))  # pending, not flushed
        pg = await driver(db)
        assert await pg.fetchval("SELECT count(*) FROM organisations WHERE code = $1", code) == 1
        await db.commit()
    async with session_factory()() as db:
        assert await db.scalar(select(Organisation.code).where(Organisation.code == code)) == code


async def test_insert_new_stores_what_sqlalchemy_stores(app: Any) -> None:
    """Column defaults applied, JSON None as SQLAlchemy's JSON type stores it, arrays and dates."""

    now = clock.now()

    def intake() -> Intake:
        return Intake(
            id=uuid.uuid4(),
            reference="AMP-" + uuid.uuid4().hex[:8].upper(),
            region="rotterdam",
            status="received",
            source="self_registration",
            received_at=now,
            client={"givenName": "A", "familyName": "B"},
            pregnancy={"pregnant": False},
            children=[],
            concerns=[{"code": "debts", "source": "self"}],
            referrer=None,
            vulnerability="vulnerable",
            possible_duplicates=[uuid.uuid4()],
            birth_date=now.date(),
        )

    fast, reference = intake(), intake()
    async with session_factory()() as db:
        await insert_new(db, [fast])
        values = {c.key: getattr(reference, c.key) for c in Intake.__table__.columns if c.key in reference.__dict__}
        await db.execute(insert(Intake), [values])
        await db.commit()
    columns = [c.key for c in Intake.__table__.columns if c.key not in ("id", "reference", "possible_duplicates")]
    async with session_factory()() as db:
        pg = await driver(db)
        rows = await pg.fetch(
            "SELECT "
            + ", ".join(f"{c} IS NULL AS {c}_null, {c}::text AS {c}" for c in columns)
            + " FROM intakes WHERE id = ANY($1) ORDER BY id = $2",
            [fast.id, reference.id],
            reference.id,
        )
    assert dict(rows[0]) == dict(rows[1])
    assert rows[0]["excluded_programmes"] == "{}" and rows[0]["version"] == "1"  # model defaults


async def test_a_pooled_connection_the_database_closed_is_replaced_at_checkout(
    app: Any, client: httpx.AsyncClient, database_url: str
) -> None:
    staff = await auth_for(client, "staff")
    assert (await client.get("/api/v1/intakes", headers=staff)).status_code == 200
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        killed = await admin.fetchval(
            """SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = 'aanmeldpunt') t"""
        )
    finally:
        await admin.close()
    assert killed >= 1
    await asyncio.sleep(0.5)  # the driver notices the closed sockets
    for _ in range(3):
        answer = await client.get("/api/v1/intakes", headers=staff)
        assert answer.status_code == 200, answer.text
