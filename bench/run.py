"""`make bench`: the service against the thinnest FastAPI + asyncpg baseline, on the same
PostgreSQL, with the same load generator (wrk) at the same concurrency. Prints a table and
writes bench/results.json. Sizes scale with BENCH_SCALE (1.0 = the figures of the issue)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import seed
from tests.live import LiveServer, free_port
from tests.receiver import Receiver, start

HERE = Path(__file__).parent
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
DURATION = os.environ.get("BENCH_DURATION", "15s")
WARMUP = os.environ.get("BENCH_WARMUP", "3s")
BACKLOG = os.environ.get("BENCH_BACKLOG", "10s")  # B3: how long referrals pile up before the worker drains them
RSS_CHUNK = os.environ.get("BENCH_RSS_CHUNK", "5s")
RESULTS = Path(os.environ.get("BENCH_RESULTS", str(Path(__file__).parent / "results.json")))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = 2


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def wrk(url: str, kind: str, token: str = "", due: str = "", duration: str = DURATION) -> dict[str, float]:
    command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", duration, "--latency", "-s"]
    command += [str(HERE / "load.lua"), url, "--", kind, token, due]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    return result


async def fresh_database(base_url: str, label: str) -> str:
    name = f"amp_bench_{label}_{uuid.uuid4().hex[:6]}"
    root = base_url.rsplit("/", 1)[0]
    conn = await asyncpg.connect(root + "/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return f"{root}/{name}"


def production_server(database_url: str) -> LiveServer:
    # Production defaults: workers in-process, INFO logs (to /dev/null here), real limits.
    return LiveServer(database_url, env={"RUN_WORKERS": "true", "LOG_LEVEL": "INFO"})


@dataclass
class Baseline:
    database_url: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Baseline:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": self.database_url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.baseline:app", "--port", str(self.port), "--log-level", "warning",
             "--no-access-log"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("baseline did not start")

    def __exit__(self, *_: object) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait()


def due_date() -> str:
    from app import clock

    return (clock.today_local().date() + timedelta(days=150)).isoformat()


def example_referral(n: int) -> dict[str, Any]:
    """The README's example body, as a different woman each time (no duplicate links)."""
    body: dict[str, Any] = json.loads((HERE.parent / "docs" / "example-referral.json").read_text())
    body["pregnancy"]["dueDate"] = due_date()
    body["client"].pop("bsn", None)
    body["client"]["familyName"] = f"Latency{n}-{uuid.uuid4().hex[:6]}"
    return body


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def b1(base_url: str) -> dict[str, Any]:
    log("B1: POST /api/v1/referrals vs the baseline insert")
    db = await fresh_database(base_url, "b1")
    with Baseline(db) as baseline:
        wrk(f"http://127.0.0.1:{baseline.port}/items", "baseline", duration=WARMUP)  # warm up
        base = wrk(f"http://127.0.0.1:{baseline.port}/items", "baseline")
    server = production_server(db).start()
    try:
        token = server.demo_tokens()["referrer"]
        wrk(f"{server.base}/api/v1/referrals", "referral", token, due_date(), duration=WARMUP)
        ours = wrk(f"{server.base}/api/v1/referrals", "referral", token, due_date())
    finally:
        server.stop()
    return {"baseline": base, "service": ours}


async def b2(base_url: str) -> dict[str, Any]:
    log("B2: GET /api/v1/intakes?limit=50 with 1k intakes, then 100k intakes and 5M audit rows")
    db = await fresh_database(base_url, "b2")
    server = production_server(db).start()
    results: dict[str, Any] = {}
    try:
        token = server.demo_tokens()["staff"]
        conn = await asyncpg.connect(db)
        open_count = 500
        await seed.intakes(conn, open_count, open_=True)
        await seed.intakes(conn, 1000 - open_count, open_=False, offset=open_count)
        await seed.deadlines_for_open(conn)
        await seed.analyze(conn)
        url = f"{server.base}/api/v1/intakes?limit=50"
        wrk(url, "get", token, duration=WARMUP)
        results["small"] = {**wrk(url, "get", token), "intakes": 1000}
        big = int(100_000 * SCALE)
        audit = int(5_000_000 * SCALE)
        log(f"B2: seeding {big - 1000} closed intakes and {audit} audit rows")
        await seed.intakes(conn, big - 1000, open_=False, offset=1000)
        await seed.audit_rows(conn, audit)
        await seed.analyze(conn)
        await conn.close()
        wrk(url, "get", token, duration=WARMUP)
        results["large"] = {**wrk(url, "get", token), "intakes": big, "auditRows": audit}
    finally:
        server.stop()
    return results


async def b3(base_url: str, b1_rps: float) -> dict[str, Any]:
    log("B3: webhook deliveries per second, and the time from 201 to the receiver")
    db = await fresh_database(base_url, "b3")
    receiver = Receiver()
    http_server = start(receiver)
    server = LiveServer(db, env={"WEBHOOK_ALLOW_LOOPBACK_HTTP": "true", "LOG_LEVEL": "INFO"}).start()  # no workers
    results: dict[str, Any] = {}
    try:
        tokens = server.demo_tokens()
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        subscription = {
            "url": receiver.url("ok", "hub"),
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        }
        r = httpx.post(f"{server.base}/api/v1/webhook-subscriptions", json=subscription, headers=admin)
        r.raise_for_status()
        receiver.secrets["hub"] = [r.json()["secret"]]
        # A backlog made with the API, then one worker process drains it.
        wrk(f"{server.base}/api/v1/referrals", "referral", tokens["referrer"], due_date(), duration=BACKLOG)
        conn = await asyncpg.connect(db)
        backlog = await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
        env = {**server.environment(), "LOG_LEVEL": "WARNING"}
        started = time.monotonic()
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while await conn.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"):
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started  # includes the worker's start-up: a conservative figure
        results["drain"] = {
            "deliveries": backlog,
            "seconds": round(elapsed, 2),
            "perSecond": round(backlog / elapsed, 1),
        }
        # Latency: referrals one at a time while the worker runs; match arrivals by intake id.
        sent: dict[str, float] = {}
        referrer = {"Authorization": f"Bearer {tokens['referrer']}"}
        with httpx.Client() as client:
            for n in range(50):
                answer = client.post(f"{server.base}/api/v1/referrals", json=example_referral(n), headers=referrer)
                sent[answer.json()["id"]] = time.time()
                time.sleep(0.05)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            arrived = {a.body["data"]["intakeId"]: a for a in receiver.of("hub") if a.body["data"]["intakeId"] in sent}
            if len(arrived) == len(sent):
                break
            await asyncio.sleep(0.05)
        times = _times(receiver)
        latencies = sorted((times[i] - sent[i]) * 1000 for i in sent if i in times)
        results["latencyMs"] = {
            "median": round(statistics.median(latencies), 1),
            "p90": round(latencies[int(0.9 * (len(latencies) - 1))], 1),
            "samples": len(latencies),
        }
        worker.terminate()
        worker.wait()
        await conn.close()
    finally:
        server.stop()
        http_server.shutdown()
    results["ratio"] = round(results["drain"]["perSecond"] / b1_rps, 2)
    return results


def _times(receiver: Receiver) -> dict[str, float]:
    return {a.body["data"]["intakeId"]: a.arrived_at for a in receiver.of("hub")}


async def b4(base_url: str) -> dict[str, Any]:
    log("B4: one deadline-monitor tick with 100 due, among 1k and then 100k open intakes")
    from app import clock
    from app.config import Settings
    from app.db import dispose_engine, init_engine, session_factory
    from app.deadlines import monitor
    from app.migrate import upgrade

    db = await fresh_database(base_url, "b4")
    await asyncio.to_thread(upgrade, db)
    init_engine(db, Settings(database_url=db))
    conn = await asyncpg.connect(db)

    async def tick_ms() -> float:
        # Each tick runs in a transaction that is rolled back, so every run sees the same 100 due.
        times = []
        for _ in range(7):
            async with session_factory()() as session:
                started = time.perf_counter()
                result = await monitor.tick(session, clock.now())
                times.append((time.perf_counter() - started) * 1000)
                assert result.approaching == 100, result
                await session.rollback()
        return statistics.median(times)

    try:
        await seed.intakes(conn, 1000, open_=True)
        await seed.deadlines_for_open(conn)
        await seed.due_now(conn, 100)
        await seed.analyze(conn)
        small = await tick_ms()
        big = int(100_000 * SCALE)
        await seed.intakes(conn, big - 1000, open_=True, offset=1000)
        await seed.deadlines_for_open(conn)
        await seed.analyze(conn)
        large = await tick_ms()
    finally:
        await conn.close()
        await dispose_engine()
    return {"smallOpen": 1000, "largeOpen": big, "smallMs": round(small, 1), "largeMs": round(large, 1)}


async def rss(base_url: str) -> dict[str, Any]:
    log("RSS: the API process after 10k and after 100k requests")
    db = await fresh_database(base_url, "rss")
    server = production_server(db).start()
    try:
        token = server.demo_tokens()["referrer"]
        assert server.process is not None
        answer = httpx.post(
            f"{server.base}/api/v1/referrals", json=example_referral(0), headers={"Authorization": f"Bearer {token}"}
        )
        url = f"{server.base}/api/v1/referrals/{answer.json()['id']}"
        done = 0
        marks: dict[int, int] = {}
        for target in (int(10_000 * SCALE), int(100_000 * SCALE)):
            while done < target:
                done += int(wrk(url, "get", token, duration=RSS_CHUNK)["requests"])
            marks[target] = rss_kib(server.process.pid)
    finally:
        server.stop()
    (first, at_first), (second, at_second) = sorted(marks.items())
    return {"requests": [first, second], "rssKiB": [at_first, at_second], "ratio": round(at_second / at_first, 3)}


def row(name: str, value: float, target: str, met: bool) -> dict[str, Any]:
    return {"figure": name, "value": value, "target": target, "met": met}


async def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    base_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    one = await b1(base_url)
    two = await b2(base_url)
    three = await b3(base_url, one["service"]["rps"])
    four = await b4(base_url)
    memory = await rss(base_url)
    b1_ratio = one["service"]["rps"] / one["baseline"]["rps"]
    p99_ratio = one["service"]["p99Ms"] / one["baseline"]["p99Ms"]
    b2_ratio = two["large"]["rps"] / two["small"]["rps"]
    b4_ratio = four["largeMs"] / four["smallMs"]
    table = [
        row("B1 referrals/s ÷ baseline inserts/s", round(b1_ratio, 2), "≥ 0.5", b1_ratio >= 0.5),
        row("B1 p99 ÷ baseline p99", round(p99_ratio, 2), "≤ 3", p99_ratio <= 3),
        row("B2 worklist/s at 100k+5M ÷ at 1k", round(b2_ratio, 2), "≥ 0.8", b2_ratio >= 0.8),
        row("B3 deliveries/s ÷ B1 referrals/s", three["ratio"], "≥ 0.5", three["ratio"] >= 0.5),
        row("B3 median 201 → receiver (ms)", three["latencyMs"]["median"], "report", True),
        row("B4 tick at 100k open ÷ at 1k open", round(b4_ratio, 2), "≤ 2", b4_ratio <= 2),
        row("RSS after 100k ÷ after 10k requests", memory["ratio"], "≤ 1.2", memory["ratio"] <= 1.2),
    ]
    results = {
        "scale": SCALE,
        "duration": DURATION,
        "connections": CONNECTIONS,
        "table": table,
        "b1": one,
        "b2": two,
        "b3": three,
        "b4": four,
        "rss": memory,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'figure':<42} {'value':>10}  {'target':<8} met")
    for entry in table:
        print(f"{entry['figure']:<42} {entry['value']:>10}  {entry['target']:<8} {'yes' if entry['met'] else 'NO'}")
    print(
        f"\nB1 service {one['service']['rps']:.0f}/s p99 {one['service']['p99Ms']:.1f} ms; baseline "
        f"{one['baseline']['rps']:.0f}/s p99 {one['baseline']['p99Ms']:.1f} ms; "
        f"B2 {two['small']['rps']:.0f}/s → {two['large']['rps']:.0f}/s; B3 {three['drain']}; B4 {four}; RSS {memory}"
    )


if __name__ == "__main__":
    asyncio.run(main())
