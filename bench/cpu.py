"""`make bench-cpu`: CPU milliseconds per request of the service and of the same-work
baseline, in this process, one request at a time (httpx over ASGI, no sockets, no
contention). Process CPU time does not depend on what else the machine is doing, so this is
the figure to compare before and after a change to a hot path on a busy machine; it leaves
out PostgreSQL's own CPU, which both sides spend alike.

    python -m bench.cpu [REQUESTS]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from bench import run, seed


async def per_request(send: Callable[[int], Awaitable[httpx.Response]], count: int) -> dict[str, float]:
    for n in range(20):  # warm: statement caches, token cache, imports
        (await send(-1 - n)).raise_for_status()
    cpu, wall = [], []
    for n in range(count):
        started_cpu, started = time.process_time(), time.perf_counter()
        answer = await send(n)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return {"cpuMs": round(statistics.median(cpu), 2), "wallMs": round(statistics.median(wall), 2)}


def referral_sender(client: httpx.AsyncClient, path: str, token: str) -> Callable[[int], Awaitable[httpx.Response]]:
    def send(n: int) -> Awaitable[httpx.Response]:
        body = run.example_referral(n)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"cpu-{n}-{body['client']['familyName']}"}
        return client.post(path, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"})

    return send


def get_sender(client: httpx.AsyncClient, path: str, token: str) -> Callable[[int], Awaitable[httpx.Response]]:
    def send(n: int) -> Awaitable[httpx.Response]:
        del n
        return client.get(path, headers={"Authorization": f"Bearer {token}"})

    return send


async def measure(count: int) -> dict[str, Any]:
    from app.config import Settings
    from app.main import create_app
    from bench import baseline

    base_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    prepared = await run.template(base_url)
    out: dict[str, Any] = {}
    service_db, baseline_db = await prepared.clone("cpu_service"), await prepared.clone("cpu_baseline")
    for db in (service_db, baseline_db):
        conn = await asyncpg.connect(db)
        await seed.worklist(conn)
        await conn.close()
    service = create_app(Settings(database_url=service_db, run_workers=False, log_level="INFO", token_rate=10**6))
    async with service.router.lifespan_context(service):
        transport = httpx.ASGITransport(app=service)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            tokens = {}
            for role in ("staff", "referrer"):
                creds = prepared.credentials[role]
                answer = await client.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(creds["clientId"], creds["clientSecret"]),
                )
                tokens[role] = answer.json()["access_token"]
            out["service"] = {
                "referral": await per_request(referral_sender(client, "/api/v1/referrals", tokens["referrer"]), count),
                "worklist": await per_request(get_sender(client, "/api/v1/intakes?limit=50", tokens["staff"]), count),
            }
    os.environ["DATABASE_URL"] = baseline_db
    by_hand = baseline.create_app()
    async with by_hand.router.lifespan_context(by_hand):
        transport = httpx.ASGITransport(app=by_hand)
        async with httpx.AsyncClient(transport=transport, base_url="http://baseline") as client:
            out["sameWork"] = {
                "referral": await per_request(referral_sender(client, "/referrals", tokens["referrer"]), count),
                "worklist": await per_request(get_sender(client, "/intakes?limit=50", tokens["staff"]), count),
            }
    for what in ("referral", "worklist"):
        out[f"{what}CpuRatio"] = round(out["sameWork"][what]["cpuMs"] / out["service"][what]["cpuMs"], 2)
    return out


async def main() -> None:
    base_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    stdout, sys.stdout = sys.stdout, open(os.devnull, "w")
    try:
        result = await measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    finally:
        sys.stdout.close()
        sys.stdout = stdout
        os.environ["DATABASE_URL"] = base_url
        await run.drop_created(base_url)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
