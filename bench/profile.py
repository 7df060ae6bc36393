"""`make profile SCENARIO=referral|worklist [TARGET=service|baseline]`: where a hot path spends
its time under load. Starts the service (or the same-work baseline) under py-spy on a
prepared database, drives it with wrk at BENCH_CONNECTIONS for BENCH_DURATION, and prints
the functions with the most samples, inclusive and self. The collapsed stacks are kept in
.venv/profile-<target>-<scenario>.txt (for any flame-graph tool).

py-spy attaches once the target is warm, for the measured run only. The command, for the record:
    py-spy record --pid PID --rate 200 --format raw --duration SECONDS --nonblocking --output OUT
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import asyncpg

from bench import run, seed
from tests.support.live import free_port

OUT = Path(__file__).parent.parent / ".venv"


def summarise(collapsed: Path, top: int = 30) -> str:
    """Samples per function: inclusive for our own code (app/, bench/), self for everything,
    and self per top-level package."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    package: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        for frame in set(frames):
            if "(app/" in frame or "(bench/" in frame:
                inclusive[frame] += count
        own[frames[-1]] += count
        where = frames[-1].rpartition("(")[2]
        package[where.split("/")[0].split(".")[0].split(":")[0] or "?"] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "inclusive, our code:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "self, per package:"]
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in package.most_common(15)]
    return "\n".join(lines)


async def main(scenario: str, target: str) -> None:
    base_url = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        await profile(base_url, scenario, target)
    finally:
        await run.drop_created(base_url)


async def profile(base_url: str, scenario: str, target: str) -> None:
    prepared = await run.template(base_url)
    db = await prepared.clone(f"profile_{scenario}")
    if scenario == "worklist":
        conn = await asyncpg.connect(db)
        await seed.worklist(conn)
        await conn.close()
    port = free_port()
    env = {**run.production_server(db).environment(), "PORT": str(port)}
    if target == "service":
        command = [sys.executable, "-m", "app.cli", "serve"]
        path = {"referral": "/api/v1/referrals", "worklist": "/api/v1/intakes?limit=50"}[scenario]
    else:
        command = [sys.executable, "-m", "uvicorn", "--factory", "bench.baseline:create_app", "--port", str(port),
                   "--log-level", "warning", "--no-access-log"]  # fmt: skip
        path = {"referral": "/referrals", "worklist": "/intakes?limit=50"}[scenario]
    OUT.mkdir(exist_ok=True)
    collapsed = OUT / f"profile-{target}-{scenario}.txt"
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        run.wait_ready(base, "/readyz" if target == "service" else "/healthz")
        if target == "service":
            tokens = prepared.tokens(base)
        else:  # the baseline issues no tokens: a service on a copy of the same template does
            helper = run.production_server(await prepared.clone("profile_tokens")).start()
            try:
                tokens = prepared.tokens(helper.base)
            finally:
                helper.stop()
        kind = "referral" if scenario == "referral" else "get"
        token = tokens["referrer"] if scenario == "referral" else tokens["staff"]
        run.probe(base + path, kind, token, ())
        run.wrk(base + path, kind, token, run.due_date(), duration=run.WARMUP)
        # Attach once warm, for exactly the measured run: start-up and imports stay out.
        seconds = str(int(run.DURATION.rstrip("s")))
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.pid), "--rate", "200",
             "--format", "raw", "--duration", seconds, "--nonblocking", "--output", str(collapsed)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        result = run.wrk(base + path, kind, token, run.due_date())
        _, spy_errors = spy.communicate(timeout=120)
        if spy.returncode:
            raise RuntimeError(f"py-spy failed: {spy_errors.decode(errors='replace')[-2000:]}")
        run.log(f"{target} {scenario}: {result}")
    finally:
        server.terminate()
        server.wait()
    print(summarise(collapsed))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "referral", sys.argv[2] if len(sys.argv) > 2 else "service"))
