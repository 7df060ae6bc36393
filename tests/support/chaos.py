"""Chaos scenarios against real processes (`make chaos`):

1. Crash-safe intake: 1,000 referrals with Idempotency-Keys at concurrency 32 to a server
   process that is SIGKILLed midway and restarted; every request that got no answer is
   retried with its key. Afterwards: exactly 1,000 intakes, none duplicated, every
   acknowledged one stored with its audit row and its `intake.received` event, and the
   access log verifies (`audit checkpoint` + `audit verify`, as an operator runs them).
2. Database outage: a private PostgreSQL (pgserver) is stopped for 10 s under load. The API
   answers 503 problem+json with Retry-After (no hang), /readyz says not ready, and after
   the restart it recovers without restarting the API.

Prints the counts and exits non-zero when a scenario does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from stdnum.nl import bsn as stdnum_bsn

from tests.support.helpers import referral
from tests.support.live import LiveServer
from tests.support.receiver import Receiver, start


def bsn_for(i: int) -> str:
    """A valid BSN (elfproef) per number, so each referral is a different woman."""
    return _BSNS[i]


_BSNS = [f"{n:09d}" for n in range(100_000_000, 100_200_000) if stdnum_bsn.is_valid(f"{n:09d}")]


def body_for(i: int) -> dict[str, Any]:
    overrides = {"client.familyName": f"Chaos{i:05d}", "client.bsn": bsn_for(i)}
    return referral(narrative=f"chaos-{i:05d}", **overrides)


@dataclass
class Sent:
    key: str
    body: dict[str, Any]
    status: int | None = None
    intake_id: str | None = None
    tries: int = 0


@dataclass
class CrashResult:
    sent: int
    answered_before_kill: int
    retried: int
    stored: int
    duplicates: int
    lost: int
    missing_audit: int
    missing_event: int
    statuses: Counter[int] = field(default_factory=Counter)
    audit_verify: str = ""  # the last line of `aanmeldpunt audit verify`
    audit_ok: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.stored == self.sent
            and self.duplicates == 0
            and self.lost == 0
            and not (self.missing_audit or self.missing_event)
            and self.audit_ok
        )


async def post_one(client: httpx.AsyncClient, base: str, token: str, item: Sent) -> None:
    item.tries += 1
    try:
        r = await client.post(
            f"{base}/api/v1/referrals",
            json=item.body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": item.key},
        )
    except httpx.HTTPError:
        return  # no answer: retried later with the same key
    if r.status_code in (201,):
        item.status, item.intake_id = r.status_code, r.json()["id"]
    elif r.status_code in (409, 503):
        return  # in flight elsewhere, or the server is going down: retry later
    else:
        item.status = r.status_code


async def send_all(base: str, token: str, items: list[Sent], concurrency: int, stop_after: int | None) -> None:
    queue: asyncio.Queue[Sent] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    done = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while not queue.empty():
            if stop_after is not None and done >= stop_after:
                return
            item = queue.get_nowait()
            await post_one(client, base, token, item)
            done += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))


async def crash_scenario(database_url: str, total: int = 1000, concurrency: int = 32) -> CrashResult:
    server = LiveServer(database_url).start()
    token = server.demo_tokens()["referrer"]
    items = [Sent(str(uuid.uuid4()), body_for(i)) for i in range(total)]

    async def killer() -> None:
        while sum(1 for i in items if i.tries) < total // 2:
            await asyncio.sleep(0.01)
        server.kill()  # SIGKILL, mid-stream: some requests are in flight

    await asyncio.gather(send_all(server.base, token, items, concurrency, None), killer())
    answered_before = sum(1 for i in items if i.status is not None)
    server.start()
    # The same client retries with the same token (still valid: keys live in the database).
    # Idempotency keys are namespaced per client: retrying as a *new* client (a fresh `demo`)
    # would not be a retry, and a request committed just before the kill would be stored twice.
    unanswered = [i for i in items if i.status is None]
    for _ in range(20):
        pending = [i for i in items if i.status is None]
        if not pending:
            break
        await send_all(server.base, token, pending, concurrency, None)
    server.stop()

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT id, narrative FROM intakes WHERE narrative LIKE 'chaos-%'")
        per_marker = Counter(r["narrative"] for r in rows)
        stored_ids = {str(r["id"]) for r in rows}
        acknowledged = [i.intake_id for i in items if i.intake_id]
        audited = {
            str(r["intake_id"]) for r in await conn.fetch("SELECT intake_id FROM access_log WHERE action = 'create'")
        }
        evented = {
            str(r["intake_id"]) for r in await conn.fetch("SELECT intake_id FROM events WHERE type = 'intake.received'")
        }
    finally:
        await conn.close()
    # The chain must hold after the kill: concurrent writers, rolled-back transactions.
    audit: subprocess.CompletedProcess[str] | None = None
    for command in ("checkpoint", "verify"):
        audit = subprocess.run(
            [sys.executable, "-m", "app.cli", "audit", command],
            env=server.environment(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if audit.returncode:
            break
    assert audit is not None
    return CrashResult(
        sent=total,
        answered_before_kill=answered_before,
        retried=len(unanswered),
        stored=len(rows),
        duplicates=sum(n - 1 for n in per_marker.values() if n > 1),
        lost=sum(1 for a in acknowledged if a not in stored_ids) + (total - len(per_marker)),
        missing_audit=sum(1 for a in acknowledged if a not in audited),
        missing_event=sum(1 for a in acknowledged if a not in evented),
        statuses=Counter(i.status or 0 for i in items),
        audit_verify=(audit.stdout.strip().splitlines() or [audit.stderr.strip()])[-1],
        audit_ok=audit.returncode == 0,
    )


@dataclass
class OutageResult:
    during: Counter[str]
    readyz_during: int | None
    slowest_during_s: float
    recovered: bool
    after: Counter[str]
    acknowledged: int
    delivered_after: int

    @property
    def ok(self) -> bool:
        only_503 = set(self.during) <= {"201", "503+problem+retry-after"}
        workers_resumed = self.delivered_after == self.acknowledged
        return (
            only_503
            and "503+problem+retry-after" in self.during
            and self.readyz_during == 503
            and self.recovered
            and workers_resumed
        )


async def outage_scenario(seconds: float = 10) -> OutageResult:
    import pgserver
    from pgserver._commands import pg_ctl

    with tempfile.TemporaryDirectory() as folder:
        pg = pgserver.get_server(Path(folder) / "pg", cleanup_mode="stop")
        url = pg.get_uri()
        receiver = Receiver()
        http_server = start(receiver)
        env = {"DB_STATEMENT_TIMEOUT_MS": "3000", "RUN_WORKERS": "true", "WEBHOOK_ALLOW_LOOPBACK_HTTP": "true"}
        server = LiveServer(url, env=env).start()
        tokens = server.demo_tokens()
        token = tokens["referrer"]
        headers = {"Authorization": f"Bearer {token}"}
        subscription = {
            "url": receiver.url("ok", "hub"),
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        }
        created = httpx.post(
            f"{server.base}/api/v1/webhook-subscriptions",
            json=subscription,
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        )
        created.raise_for_status()
        acknowledged: set[str] = set()
        during: Counter[str] = Counter()
        after: Counter[str] = Counter()
        slowest = 0.0
        async with httpx.AsyncClient(timeout=20) as client:

            async def one(tally: Counter[str]) -> float:
                started = time.monotonic()
                try:
                    r = await client.post(
                        f"{server.base}/api/v1/referrals", json=body_for(len(acknowledged)), headers=headers
                    )
                    if r.status_code == 201:
                        acknowledged.add(r.json()["id"])
                    if r.status_code == 503:
                        good = (
                            r.headers.get("content-type") == "application/problem+json" and "retry-after" in r.headers
                        )
                        tally["503+problem+retry-after" if good else "503-bare"] += 1
                    else:
                        tally[str(r.status_code)] += 1
                except httpx.HTTPError as exc:
                    tally[type(exc).__name__] += 1
                return time.monotonic() - started

            for _ in range(20):
                await one(Counter())
            pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pg.pgdata, user=pg.system_user)
            stopped = time.monotonic()
            readyz = None
            while time.monotonic() - stopped < seconds:
                slowest = max(slowest, *await asyncio.gather(*(one(during) for _ in range(8))))
                readyz = (await client.get(f"{server.base}/readyz")).status_code
            pg.ensure_postgres_running()
            recovered = False
            for _ in range(50):
                if (await client.get(f"{server.base}/readyz")).status_code == 200:
                    recovered = True
                    break
                await asyncio.sleep(0.2)
            for _ in range(20):
                await one(after)
            recovered = recovered and after == Counter({"201": 20})
            # The in-process workers resume: every acknowledged referral's event reaches the receiver.
            for _ in range(300):
                arrived = {a.body["data"]["intakeId"] for a in receiver.of("hub")}
                if acknowledged <= arrived:
                    break
                await asyncio.sleep(0.1)
        server.stop()
        http_server.shutdown()
        pg.cleanup()
    delivered = len(acknowledged & {a.body["data"]["intakeId"] for a in receiver.of("hub")})
    return OutageResult(during, readyz, round(slowest, 2), recovered, after, len(acknowledged), delivered)


async def fresh_database(base_url: str) -> str:
    name = f"amp_chaos_{uuid.uuid4().hex[:8]}"
    root = base_url.rsplit("/", 1)[0]
    conn = await asyncpg.connect(root + "/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return f"{root}/{name}"


async def main_async(args: argparse.Namespace) -> int:
    failures = 0
    if args.scenario in ("all", "crash"):
        import os

        base = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
        crash = await crash_scenario(await fresh_database(base), args.total, args.concurrency)
        print(
            json.dumps(
                {
                    "scenario": "crash",
                    "sent": crash.sent,
                    "answeredBeforeKill": crash.answered_before_kill,
                    "retriedAfterRestart": crash.retried,
                    "stored": crash.stored,
                    "duplicates": crash.duplicates,
                    "lost": crash.lost,
                    "missingAuditRow": crash.missing_audit,
                    "missingEvent": crash.missing_event,
                    "finalStatuses": {str(k): v for k, v in crash.statuses.items()},
                    "auditVerify": crash.audit_verify,
                    "ok": crash.ok,
                }
            ),
            flush=True,
        )
        failures += not crash.ok
    if args.scenario in ("all", "outage"):
        outage = await outage_scenario(args.outage_seconds)
        print(
            json.dumps(
                {
                    "scenario": "outage",
                    "answersDuringOutage": dict(outage.during),
                    "readyzDuringOutage": outage.readyz_during,
                    "slowestAnswerDuringOutageSeconds": outage.slowest_during_s,
                    "answersAfterRestart": dict(outage.after),
                    "recoveredWithoutRestart": outage.recovered,
                    "acknowledgedReferrals": outage.acknowledged,
                    "theirEventsDeliveredAfterRecovery": outage.delivered_after,
                    "ok": outage.ok,
                }
            ),
            flush=True,
        )
        failures += not outage.ok
    return failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default="all", choices=["all", "crash", "outage"])
    parser.add_argument("--total", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--outage-seconds", type=float, default=10)
    sys.exit(1 if asyncio.run(main_async(parser.parse_args())) else 0)


if __name__ == "__main__":
    main()
