"""`make run` (= `aanmeldpunt serve` without DATABASE_URL) stops its embedded PostgreSQL when
it is stopped, by SIGTERM and by SIGINT: real processes, a fresh DATA_DIR."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from tests.support.live import free_port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DATA_DIR": str(data_dir), "PORT": str(port), "RUN_WORKERS": "false", "LOG_LEVEL": "WARNING"})
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=env, stdout=out, stderr=out)


async def _service_users(pgdata: Path) -> set[str]:
    conn = await asyncpg.connect(host=str(pgdata.resolve()), user="postgres", database="postgres")
    try:
        rows = await conn.fetch("SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'aanmeldpunt'")
    finally:
        await conn.close()
    return {r["usename"] for r in rows}


def _run_and_stop(data_dir: Path, how: signal.Signals, log: Path) -> None:
    port = free_port()
    process = _serve(data_dir, port, log)
    try:
        deadline = time.monotonic() + 240  # initdb and the migrations on a loaded machine
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.5)
        postmaster = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        assert _alive(postmaster)
        # Least privilege on the embedded server too: the service connects as its own role.
        assert asyncio.run(_service_users(data_dir / "pg")) == {"aanmeldpunt_app"}
        process.send_signal(how)
        process.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _alive(postmaster) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(postmaster), f"PostgreSQL {postmaster} still runs after {how.name} to serve"
        assert not (data_dir / "pg" / "postmaster.pid").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_stops_the_embedded_postgres_on_sigterm_and_sigint(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    _run_and_stop(tmp_path / "data", signal.SIGTERM, log)
    _run_and_stop(tmp_path / "data", signal.SIGINT, log)  # the same DATA_DIR again: a restart works
