"""The access log is written on every access, chained, tamper-evident; logs hold no personal data."""

from __future__ import annotations

import asyncpg
from sqlalchemy import func, select

from app.audit.models import AccessLogEntry
from app.audit.service import verify_chain
from app.db import get_engine
from tests.support.helpers import auth_for, referral, seed_programmes


async def _flow(client) -> str:
    await seed_programmes()
    referrer = await auth_for(client, "referrer")
    staff = await auth_for(client, "staff")
    created = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    intake_id = created.json()["id"]
    await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)
    await client.get("/api/v1/intakes", headers=staff)
    await client.get(f"/api/v1/intakes/{intake_id}", headers=staff)
    return intake_id


async def test_every_access_is_logged_and_chained(client, db):
    intake_id = await _flow(client)
    rows = (await db.scalars(select(AccessLogEntry).order_by(AccessLogEntry.seq))).all()
    assert [r.action for r in rows] == ["create", "read", "search", "read"]
    assert all(str(r.intake_id) == intake_id for r in rows)
    assert rows[0].basis == "processing" and rows[1].basis == "feedback_to_referrer"
    async with get_engine().connect() as conn:
        result = await verify_chain(conn)
    assert result.broken_seq is None and result.checked == 4


async def test_app_cannot_update_or_delete_audit_rows(client, db):
    await _flow(client)
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    for statement in ("UPDATE access_log SET basis = 'x'", "DELETE FROM access_log"):
        try:
            await db.execute(text(statement))
            raise AssertionError("should be refused")
        except DBAPIError as exc:
            assert "append-only" in str(exc)
        await db.rollback()
    assert await db.scalar(select(func.count()).select_from(AccessLogEntry)) == 4


async def _owner_tamper(database_url: str, sql: str) -> None:
    conn = await asyncpg.connect(database_url)
    await conn.execute("ALTER TABLE access_log DISABLE TRIGGER access_log_no_update_delete")
    await conn.execute(sql)
    await conn.execute("ALTER TABLE access_log ENABLE TRIGGER access_log_no_update_delete")
    await conn.close()


async def test_tampering_is_detected_and_named(client, database_url):
    await _flow(client)
    await _owner_tamper(database_url, "UPDATE access_log SET organisation = 'someone' WHERE seq = 2")
    async with get_engine().connect() as conn:
        result = await verify_chain(conn)
    assert result.broken_seq == 2 and "content" in (result.reason or "")


async def test_deleting_a_row_is_detected(client, database_url):
    await _flow(client)
    await _owner_tamper(database_url, "DELETE FROM access_log WHERE seq = 2")
    async with get_engine().connect() as conn:
        result = await verify_chain(conn)
    assert result.broken_seq == 3


async def test_logs_hold_no_personal_data(client, capsys):
    await _flow(client)
    # also an error path, whose logging is the likeliest to leak
    await client.post("/api/v1/referrals", json=referral(**{"client.bsn": "123456789"}))
    out = capsys.readouterr()
    logged = out.out + out.err
    assert '"route": "/referrals/{id}"' in logged  # the logs were captured
    for secret in ("Samira", "Jansen", "123456782", "612345678", "samira@example.org", "3073", "schulden"):
        assert secret not in logged, secret
