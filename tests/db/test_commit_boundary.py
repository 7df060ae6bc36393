"""Acknowledged means committed: the transaction commits before the response is sent, and a
commit that fails is a 503 problem (nothing stored), never a 2xx.

The failure is real: a deferred constraint trigger created in the test database raises at
COMMIT (not at the INSERT), exactly where a lost connection or a serialisation failure
would strike after every statement of the request went through."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import asyncpg
import httpx
from fastapi.routing import APIRoute

from app.db import get_db
from tests.support.chaos import body_for
from tests.support.helpers import auth_for, referral
from tests.support.live import LiveServer

REFUSE_AT_COMMIT = """
CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'refused at commit (test)' USING ERRCODE = '23514';
END $$;
CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON intakes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
"""


async def _counts(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
            for table in ("intakes", "access_log", "events", "idempotency_keys", "deadlines", "consents")
        }
    finally:
        await conn.close()


async def test_a_commit_that_fails_is_503_and_stores_nothing(client: httpx.AsyncClient, database_url: str) -> None:
    headers = await auth_for(client, "referrer")
    before = await _counts(database_url)
    conn = await asyncpg.connect(database_url)
    await conn.execute(REFUSE_AT_COMMIT)
    await conn.close()

    key = str(uuid.uuid4())
    body = referral()
    r = await client.post("/api/v1/referrals", json=body, headers={**headers, "Idempotency-Key": key})
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["type"].endswith("/not-committed")
    assert await _counts(database_url) == before  # no intake, audit row, event, deadline or key

    # The retry with the same key, once the database accepts the commit again, does the work once.
    conn = await asyncpg.connect(database_url)
    await conn.execute("DROP TRIGGER refuse_at_commit ON intakes")
    await conn.close()
    r = await client.post("/api/v1/referrals", json=body, headers={**headers, "Idempotency-Key": key})
    assert r.status_code == 201, r.text
    again = await client.post("/api/v1/referrals", json=body, headers={**headers, "Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    after = await _counts(database_url)
    assert after["intakes"] == before["intakes"] + 1


def _dependencies(dependant: Any) -> list[Any]:
    found = []
    for sub in dependant.dependencies:
        found.append(sub)
        found.extend(_dependencies(sub))
    return found


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # an included router (FastAPI keeps them nested)
            found.extend(_api_routes(route.original_router.routes))
    return found


def test_every_endpoint_commits_before_its_response(app: Any) -> None:
    """The boundary is `app.db.Db` everywhere: a session dependency with the default
    ("request") scope would commit after the response was sent."""
    using_db = 0
    for route in _api_routes(app.routes):
        for dependency in _dependencies(route.dependant):
            if dependency.call is get_db:
                using_db += 1
                assert dependency.scope == "function", f"{route.path}: session not committed before the response"
    assert using_db > 30


async def _post_then_get(
    http: httpx.AsyncClient, token: str, index: int, misses: list[tuple[int, int]], statuses: list[int]
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    body = body_for(index)  # a different woman each time (no duplicate matching between them)
    r = await http.post("/api/v1/referrals", json=body, headers=auth)
    statuses.append(r.status_code)
    if r.status_code != 201:
        return
    got = await http.get(f"/api/v1/referrals/{r.json()['id']}", headers=auth)
    if got.status_code != 200:
        misses.append((index, got.status_code))


async def test_acknowledged_referral_is_readable_at_once_over_tcp(database_url: str) -> None:
    """1,000 POSTs, each followed at once by a GET of what it acknowledged, 16 at a time,
    against a real server process over TCP: every acknowledged referral is found."""
    server = LiveServer(database_url, log_file=os.environ.get("LIVE_SERVER_LOG")).start()
    try:
        tokens = server.demo_tokens()
        referrer = tokens["referrer"]
        misses: list[tuple[int, int]] = []
        statuses: list[int] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(1000):
            queue.put_nowait(i)
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(base_url=server.base, timeout=30, limits=limits) as http:

            async def worker() -> None:
                while not queue.empty():
                    await _post_then_get(http, referrer, queue.get_nowait(), misses, statuses)

            await asyncio.gather(*(worker() for _ in range(16)))
    finally:
        server.stop()
    assert statuses.count(201) == 1000, {s: statuses.count(s) for s in set(statuses)}
    assert misses == []
