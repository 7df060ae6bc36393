"""The same-work baseline of `make bench` (bench/baseline.py) must keep writing exactly what
the service writes: one referral and one worklist request against each, on identical
databases, and the rows inserted, updated and deleted are compared table by table.
Nothing here is timed. When this fails, the message names the table: update the baseline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.conftest import db_url
from tests.support.helpers import auth_for, referral, seed_programmes

# Every table of the schema gets a row trigger that counts what is written to it, so a
# table the service starts writing later is covered without changing this test.
COUNTING = """
CREATE TABLE bench_writes (tbl text NOT NULL, op text NOT NULL);
GRANT INSERT, SELECT, DELETE ON bench_writes TO PUBLIC;
CREATE FUNCTION bench_count() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    INSERT INTO bench_writes VALUES (TG_TABLE_NAME, TG_OP);
    RETURN NULL;
END $$;
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
             AND tablename NOT IN ('bench_writes', 'alembic_version') LOOP
        EXECUTE format('CREATE TRIGGER zz_bench_count AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION bench_count()', t);
    END LOOP;
END $$;
"""
WRITES = "SELECT tbl, op, count(*) AS n FROM bench_writes GROUP BY tbl, op"

Writes = dict[str, dict[str, int]]


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))


async def _writes(url: str) -> Writes:
    """What was written since the last call, per table and operation (and forget it)."""
    conn = await _connect(url)
    try:
        out: Writes = {}
        for r in await conn.fetch(WRITES):
            out.setdefault(r["tbl"], {})[r["op"]] = r["n"]
        await conn.execute("DELETE FROM bench_writes")
        return out
    finally:
        await conn.close()


def _differences(service: Writes, baseline: Writes) -> list[str]:
    out = []
    for table in sorted(service.keys() | baseline.keys()):
        ours, theirs = service.get(table, {}), baseline.get(table, {})
        for op in sorted(ours.keys() | theirs.keys()):
            if ours.get(op, 0) != theirs.get(op, 0):
                by_service, by_baseline = ours.get(op, 0), theirs.get(op, 0)
                out.append(f"{table}: {op} {by_service} row(s) by the service, {by_baseline} by the baseline")
    return out


@pytest.fixture
async def twin_databases(pg_server: str, database_url: str) -> AsyncIterator[tuple[str, str, dict[str, str]]]:
    """The service's database with programmes, a referrer, staff and two webhook subscriptions
    (the hub and the referrer's), and an identical copy of it for the baseline."""
    app = create_app(Settings(database_url=database_url, run_workers=False, token_rate=1000))
    async with app.router.lifespan_context(app):
        await seed_programmes()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            headers = {"referrer": await auth_for(client, "referrer"), "staff": await auth_for(client, "staff")}
    conn = await _connect(database_url)
    await conn.execute(
        """INSERT INTO webhook_subscriptions (id, organisation_id, url, event_types, secret, enabled, created_at,
               updated_at)
           SELECT gen_random_uuid(), id, 'https://example.org/hooks', ARRAY['intake.received'], 'whsec_x', true,
               now(), now()
           FROM organisations WHERE code IN ('aanmeldpunt-rotterdam', 'verloskundigen-zuid')"""
    )
    await conn.close()
    twin = f"amp_test_{uuid.uuid4().hex[:12]}"
    admin = await _connect(db_url(pg_server, "postgres"))
    await admin.execute(f'CREATE DATABASE "{twin}" TEMPLATE "{database_url.rsplit("/", 1)[1]}"')
    await admin.close()
    twin_url = db_url(pg_server, twin)
    for url in (database_url, twin_url):
        conn = await _connect(url)
        await conn.execute(COUNTING)
        await conn.close()
    yield database_url, twin_url, {role: h["Authorization"] for role, h in headers.items()}
    admin = await _connect(db_url(pg_server, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{twin}" WITH (FORCE)')
    await admin.close()


async def _run(app: Any, url: str, headers: dict[str, str], referral_path: str, list_path: str) -> dict[str, Any]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        await _writes(url)  # whatever start-up wrote
        body = referral()
        created = await client.post(
            referral_path,
            json=body,
            headers={"Authorization": headers["referrer"], "Idempotency-Key": "same-work-1"},
        )
        assert created.status_code == 201, created.text
        after_referral = await _writes(url)
        listed = await client.get(list_path, headers={"Authorization": headers["staff"]})
        assert listed.status_code == 200, listed.text
        assert len(listed.json()["items"]) == 1
        after_list = await _writes(url)
    return {"referral": after_referral, "worklist": after_list, "created": created.json()}


async def test_the_same_work_baseline_writes_what_the_service_writes(
    twin_databases: tuple[str, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    service_url, baseline_url, headers = twin_databases
    service = create_app(Settings(database_url=service_url, run_workers=False))
    ours = await _run(service, service_url, headers, "/api/v1/referrals", "/api/v1/intakes?limit=50")

    from bench import baseline

    monkeypatch.setenv("DATABASE_URL", baseline_url)
    theirs = await _run(baseline.create_app(), baseline_url, headers, "/referrals", "/intakes?limit=50")

    # The comparison means something only if a referral writes what we think it does.
    assert ours["referral"]["intakes"] == {"INSERT": 1}
    assert ours["referral"]["webhook_deliveries"] == {"INSERT": 2}
    assert ours["referral"]["access_log"] == {"INSERT": 1}
    assert ours["worklist"]["access_log"] == {"INSERT": 1}
    assert set(theirs["created"]) == set(ours["created"]), "the baseline answers a different body"
    for what in ("referral", "worklist"):
        differences = _differences(ours[what], theirs[what])
        assert not differences, (
            f"On {what}, the same-work baseline (bench/baseline.py) no longer writes what the service writes; "
            "update the baseline's SQL: " + "; ".join(differences)
        )
