"""`make bench`: the service against FastAPI + asyncpg baselines that do the same work by
hand (bench/baseline.py), on the same PostgreSQL, with the same load generator (wrk) at the
same concurrency. Prints a table and writes bench/results.json. Sizes scale with
BENCH_SCALE (1.0 = the figures of the issue)."""

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
from tests.support.live import LiveServer, free_port
from tests.support.receiver import Receiver, start

HERE = Path(__file__).parent
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
DURATION = os.environ.get("BENCH_DURATION", "15s")
WARMUP = os.environ.get("BENCH_WARMUP", "3s")
BACKLOG = os.environ.get("BENCH_BACKLOG", "10s")  # B3: how long referrals pile up before the worker drains them
RSS_CHUNK = os.environ.get("BENCH_RSS_CHUNK", "5s")
RESULTS = Path(os.environ.get("BENCH_RESULTS", str(Path(__file__).parent / "results.json")))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
STAFF = int(os.environ.get("BENCH_STAFF", "8"))  # concurrent staff for the read-path latencies
THREADS = 2


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:6.0f}s] {message}", file=sys.stderr, flush=True)


def wrk(
    url: str,
    kind: str,
    token: str = "",
    due: str = "",
    duration: str = DURATION,
    connections: int = CONNECTIONS,
    extra: tuple[str, ...] = (),
) -> dict[str, float]:
    command = ["wrk", "-t", str(min(THREADS, connections)), "-c", str(connections), "-d", duration, "--latency"]
    command += ["--timeout", "30s"]  # a slow answer is a latency, not a socket error
    command += ["-s", str(HERE / "load.lua"), url, "--", kind, token, due, *extra]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    return result


CREATED: list[str] = []  # the databases of this run, dropped at its end


async def fresh_database(base_url: str, label: str) -> str:
    name = f"amp_bench_{label}_{uuid.uuid4().hex[:6]}"
    CREATED.append(name)
    root = base_url.rsplit("/", 1)[0]
    conn = await asyncpg.connect(root + "/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return f"{root}/{name}"


async def clone_database(base_url: str, template: str, label: str) -> str:
    """A fresh copy of a prepared database: each contender starts from the same state."""
    name = f"amp_bench_{label}_{uuid.uuid4().hex[:6]}"
    CREATED.append(name)
    root = base_url.rsplit("/", 1)[0]
    conn = await asyncpg.connect(root + "/postgres")
    await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.rsplit("/", 1)[1]}"')
    await conn.close()
    return f"{root}/{name}"


def production_server(database_url: str) -> LiveServer:
    # Production defaults: workers in-process, INFO logs (to /dev/null here), real limits.
    return LiveServer(database_url, env={"RUN_WORKERS": "true", "LOG_LEVEL": "INFO"})


@dataclass
class Template:
    """A migrated database with the demo clients and a signing key, made once per run. Each
    scenario runs on a copy, and any server on a copy issues tokens valid in every copy."""

    base_url: str
    database_url: str
    credentials: dict[str, Any]

    async def clone(self, label: str) -> str:
        return await clone_database(self.base_url, self.database_url, label)

    def tokens(self, server_base: str) -> dict[str, str]:
        tokens = {}
        for role in ("admin", "staff", "referrer"):
            creds = self.credentials[role]
            answer = httpx.post(
                f"{server_base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(creds["clientId"], creds["clientSecret"]),
                timeout=60,
            )
            answer.raise_for_status()
            tokens[role] = str(answer.json()["access_token"])
        return tokens


_TEMPLATE: Template | None = None


async def template(base_url: str) -> Template:
    global _TEMPLATE
    if _TEMPLATE is None:
        from app.auth.keys import ensure_signing_key
        from app.config import Settings
        from app.db import dispose_engine, init_engine, session_factory

        db = await fresh_database(base_url, "template")
        out = subprocess.run(
            [sys.executable, "-m", "app.cli", "demo"],
            env={**os.environ, "DATABASE_URL": db, "LOG_LEVEL": "WARNING"},
            check=True,
            capture_output=True,
        ).stdout
        init_engine(db, Settings(database_url=db))
        try:
            async with session_factory()() as session:
                await ensure_signing_key(session)
                await session.commit()
        finally:
            await dispose_engine()
        text = out.decode()
        # The credentials are the indented JSON document; a first run may log a line before it.
        credentials, _ = json.JSONDecoder().raw_decode(text[text.index("{\n") :])
        _TEMPLATE = Template(base_url, db, credentials)
    return _TEMPLATE


@dataclass
class Baseline:
    """bench/baseline.py in the same uvicorn configuration as the service."""

    database_url: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Baseline:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": self.database_url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "bench.baseline:create_app", "--port", str(self.port),
             "--log-level", "warning", "--no-access-log"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_ready(self.base, "/healthz")
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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


def probe(url: str, kind: str, token: str, extra: tuple[str, ...]) -> None:
    """One request first, so a broken scenario fails loudly instead of measuring errors."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if kind == "referral":
        answer = httpx.post(url, json=example_referral(0), headers=headers, timeout=60)
    elif kind == "baseline":
        answer = httpx.post(url, json={"name": "probe", "value": 1}, timeout=60)
    elif kind == "pick":
        first = Path(extra[1]).read_text().split()[0]
        answer = httpx.get(url + extra[0].replace("{id}", first), headers=headers, timeout=60)
    else:
        answer = httpx.get(url, headers=headers, timeout=60)
    if answer.status_code >= 300:
        raise RuntimeError(f"{kind} {url}: {answer.status_code} {answer.text[:500]}")


def measure(url: str, kind: str, token: str = "", **options: Any) -> dict[str, float]:
    """A probe, a warm-up run, then the measured run."""
    probe(url, kind, token, options.get("extra", ()))
    wrk(url, kind, token, due_date(), duration=WARMUP, **options)
    result = wrk(url, kind, token, due_date(), **options)
    if result["non2xx"]:
        log(f"warning: {result['non2xx']} of {result['requests']} answers to {kind} {url} were not 2xx")
    return result


def ratio(numerator: float, denominator: float, digits: int = 2) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


async def b1(base_url: str) -> dict[str, Any]:
    log("B1: POST /api/v1/referrals vs the same work by hand, and vs one INSERT")
    prepared = await template(base_url)
    server = production_server(await prepared.clone("b1_service")).start()
    try:
        token = prepared.tokens(server.base)["referrer"]
        ours = measure(f"{server.base}/api/v1/referrals", "referral", token)
    finally:
        server.stop()
    with Baseline(await prepared.clone("b1_same")) as baseline:
        same = measure(f"{baseline.base}/referrals", "referral", token)
    with Baseline(await prepared.clone("b1_insert")) as baseline:
        reference = measure(f"{baseline.base}/items", "baseline")
    return {"singleInsert": reference, "sameWork": same, "service": ours}


async def b2(base_url: str) -> dict[str, Any]:
    log("B2: GET /api/v1/intakes?limit=50 with 1k intakes (and by hand), then 100k intakes and 5M audit rows")
    prepared = await template(base_url)
    db = await prepared.clone("b2")
    results: dict[str, Any] = {}
    conn = await asyncpg.connect(db)
    await seed.worklist(conn)
    server = production_server(db).start()
    try:
        token = prepared.tokens(server.base)["staff"]
        url = f"{server.base}/api/v1/intakes?limit=50"
        results["small"] = {**measure(url, "get", token), "intakes": 1000}
        with Baseline(db) as baseline:  # the service stays up, idle, meanwhile
            results["sameWork"] = {**measure(f"{baseline.base}/intakes?limit=50", "get", token), "intakes": 1000}
        big = int(100_000 * SCALE)
        audit = int(5_000_000 * SCALE)
        log(f"B2: seeding {big - 1000} closed intakes and {audit} audit rows")
        await seed.intakes(conn, big - 1000, open_=False, offset=1000)
        await seed.audit_rows(conn, audit)
        await seed.analyze(conn)
        results["large"] = {**measure(url, "get", token), "intakes": big, "auditRows": audit}
        log(f"Read paths: {STAFF} concurrent staff on {big} intakes")
        results["readPaths"] = await read_paths(server, conn, token)
    finally:
        server.stop()
        await conn.close()
    return results


async def read_paths(server: LiveServer, conn: asyncpg.Connection, token: str) -> dict[str, Any]:
    """p50 and p99 of what staff read all day, at STAFF connections: the worklist, one intake,
    and its timeline where the service has one; the intakes are picked at random."""
    ids = [str(r["id"]) for r in await conn.fetch("SELECT id FROM intakes ORDER BY random() LIMIT 2000")]
    id_file = HERE.parent / ".venv" / "bench-intake-ids.txt"
    id_file.parent.mkdir(exist_ok=True)
    id_file.write_text("\n".join(ids) + "\n")
    paths = {
        "worklist": "/api/v1/intakes?limit=50",
        "intake": "/api/v1/intakes/{id}",
        "timeline": "/api/v1/intakes/{id}/timeline",
    }
    document = httpx.get(f"{server.base}/api/v1/openapi.json", timeout=30).json()
    out: dict[str, Any] = {}
    for name, path in paths.items():
        if path.removeprefix("/api/v1").split("?")[0] not in document.get("paths", {}):
            out[name] = None  # not on this version of the service
            continue
        out[name] = {
            "path": path,
            **measure(server.base, "pick", token, connections=STAFF, extra=(path, str(id_file))),
        }
    return out


async def b3(base_url: str, b1_rps: float) -> dict[str, Any]:
    log("B3: webhook deliveries per second, and the time from 201 to the receiver")
    prepared = await template(base_url)
    db = await prepared.clone("b3")
    receiver = Receiver()
    http_server = start(receiver)
    server = LiveServer(db, env={"WEBHOOK_ALLOW_LOOPBACK_HTTP": "true", "LOG_LEVEL": "INFO"}).start()  # no workers
    results: dict[str, Any] = {}
    try:
        tokens = prepared.tokens(server.base)
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        subscription = {
            "url": receiver.url("ok", "hub"),
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        }
        r = httpx.post(f"{server.base}/api/v1/webhook-subscriptions", json=subscription, headers=admin, timeout=60)
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
        with httpx.Client(timeout=60) as client:
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
            "median": round(statistics.median(latencies), 1) if latencies else None,
            "p90": round(latencies[int(0.9 * (len(latencies) - 1))], 1) if latencies else None,
            "samples": len(latencies),
        }
        worker.terminate()
        worker.wait()
        await conn.close()
    finally:
        server.stop()
        http_server.shutdown()
    results["ratio"] = ratio(results["drain"]["perSecond"], b1_rps)
    return results


def _times(receiver: Receiver) -> dict[str, float]:
    return {a.body["data"]["intakeId"]: a.arrived_at for a in receiver.of("hub")}


async def b4(base_url: str) -> dict[str, Any]:
    log("B4: one deadline-monitor tick with 100 due, among 1k and then 100k open intakes")
    from app import clock
    from app.config import Settings
    from app.db import dispose_engine, init_engine, session_factory
    from app.jobs import monitor
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
    prepared = await template(base_url)
    server = production_server(await prepared.clone("rss")).start()
    try:
        token = prepared.tokens(server.base)["referrer"]
        assert server.process is not None
        answer = httpx.post(
            f"{server.base}/api/v1/referrals",
            json=example_referral(0),
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
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


async def b5(base_url: str) -> dict[str, Any]:
    log("B5: referrals/s with 2 uvicorn workers ÷ with 1")
    prepared = await template(base_url)
    out: dict[str, Any] = {}
    for workers in (1, 2):
        db = await prepared.clone(f"b5_{workers}")
        port = free_port()
        env = {**production_server(db).environment(), "RUN_WORKERS": "true", "LOG_LEVEL": "INFO"}
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--port", str(port),
             "--workers", str(workers), "--no-access-log", "--no-proxy-headers", "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_ready(f"http://127.0.0.1:{port}")
            token = prepared.tokens(f"http://127.0.0.1:{port}")["referrer"]
            out[f"workers{workers}"] = measure(f"http://127.0.0.1:{port}/api/v1/referrals", "referral", token)
        finally:
            process.terminate()
            process.wait()
    out["ratio"] = ratio(out["workers2"]["rps"], out["workers1"]["rps"])
    return out


def wait_ready(base: str, path: str = "/readyz", timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}{path}", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base} did not become ready")


def row(name: str, value: float | None, target: str) -> dict[str, Any]:
    """A figure against its target ("≥ x", "≤ x" or "report"); no value (nothing measured) is not met."""
    if target == "report":
        met = value is not None
    elif value is None:
        met = False
    else:
        bound = float(target.split()[1])
        met = value >= bound if target.startswith("≥") else value <= bound
    return {"figure": name, "value": value, "target": target, "met": met}


async def drop_created(base_url: str) -> None:
    conn = await asyncpg.connect(base_url.rsplit("/", 1)[0] + "/postgres")
    try:
        for name in CREATED:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def main() -> None:
    base_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        await run_all(base_url)
    finally:
        await drop_created(base_url)


async def run_all(base_url: str) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    one = await b1(base_url)
    two = await b2(base_url)
    three = await b3(base_url, one["service"]["rps"])
    four = await b4(base_url)
    memory = await rss(base_url)
    five = await b5(base_url)
    service, same = one["service"], one["sameWork"]
    b4_ratio = ratio(four["largeMs"], four["smallMs"])
    table = [
        row("B1 referrals/s ÷ same work by hand", ratio(service["rps"], same["rps"]), "≥ 0.5"),
        row("B1 p99 ÷ same work by hand p99", ratio(service["p99Ms"], same["p99Ms"]), "≤ 2"),
        row("B1 referrals/s ÷ single INSERT/s", ratio(service["rps"], one["singleInsert"]["rps"], 3), "report"),
        row("B2 worklist/s ÷ same work by hand", ratio(two["small"]["rps"], two["sameWork"]["rps"]), "≥ 0.5"),
        row("B2 worklist/s at 100k+5M ÷ at 1k", ratio(two["large"]["rps"], two["small"]["rps"]), "≥ 0.9"),
        row("B3 deliveries/s ÷ B1 referrals/s", three["ratio"], "≥ 0.5"),
        row("B3 median 201 → receiver (ms)", three["latencyMs"]["median"], "report"),
        row("B4 tick at 100k open ÷ at 1k open", b4_ratio, "≤ 2"),
        row("RSS after 100k ÷ after 10k requests", memory["ratio"], "≤ 1.2"),
        row("B5 referrals/s 2 workers ÷ 1 worker", five["ratio"], "report"),
    ]
    for name, figures in two["readPaths"].items():
        if figures is not None:
            for stat in ("p50Ms", "p99Ms"):
                label = f"{name} {stat[:3]} ms, {STAFF} staff, {two['large']['intakes']} intakes"
                table.append(row(label, figures[stat], "report"))
    results = {
        "scale": SCALE,
        "duration": DURATION,
        "connections": CONNECTIONS,
        "staff": STAFF,
        "table": table,
        "b1": one,
        "b2": two,
        "b3": three,
        "b4": four,
        "rss": memory,
        "b5": five,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'figure':<48} {'value':>10}  {'target':<8} met")
    for entry in table:
        print(f"{entry['figure']:<48} {entry['value']!s:>10}  {entry['target']:<8} {'yes' if entry['met'] else 'NO'}")
    print(
        f"\nB1 service {service['rps']:.0f}/s p50 {service['p50Ms']:.1f} p99 {service['p99Ms']:.1f} ms; "
        f"by hand {same['rps']:.0f}/s p50 {same['p50Ms']:.1f} p99 {same['p99Ms']:.1f} ms; "
        f"single INSERT {one['singleInsert']['rps']:.0f}/s p99 {one['singleInsert']['p99Ms']:.1f} ms\n"
        f"B2 by hand {two['sameWork']['rps']:.0f}/s; "
        f"service {two['small']['rps']:.0f}/s → {two['large']['rps']:.0f}/s; "
        f"B3 {three['drain']}; B4 {four}; RSS {memory}; "
        f"B5 {five['workers1']['rps']:.0f}/s → {five['workers2']['rps']:.0f}/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
