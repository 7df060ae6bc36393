"""Fuzz the API with Schemathesis, driven by its own OpenAPI document, as every role.

Checks: no 5xx, every status code documented, every response matching its schema and
content type. `python -m tests.support.fuzz --max-examples N` against a fresh database
(DATABASE_URL, else a new database on the local server); `make fuzz` runs a long one and
`make test` a bounded, seeded one (tests/contract/test_fuzz.py)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg

from tests.support.live import LiveServer

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
ROLES = ("anonymous", "admin", "staff", "referrer", "programme:moeders-van-rotterdam")


def schemathesis(
    server: LiveServer, token: str | None, max_examples: int, seed: int, log: Path
) -> subprocess.Popen[bytes]:
    st = Path(sys.executable).parent / "st"
    command = [
        str(st),
        "run",
        f"{server.base}/api/v1/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        # One worker: hypothesis' lambda-source cache is not thread-safe ("AST constructor
        # recursion depth mismatch" errors with several).
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--warnings",
        "off",
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def run(database_url: str, max_examples: int, seed: int) -> dict[str, int]:
    server = LiveServer(database_url).start()
    try:
        tokens = server.demo_tokens()
        # One process per role, side by side; each report is printed when it is done.
        with tempfile.TemporaryDirectory() as folder:
            logs = {role: Path(folder) / f"{role.replace(':', '_')}.log" for role in ROLES}
            runs = {role: schemathesis(server, tokens.get(role), max_examples, seed, logs[role]) for role in ROLES}
            results = {role: process.wait() for role, process in runs.items()}
            for role in ROLES:
                print(f"== schemathesis as {role}: exit {results[role]}", flush=True)
                print(logs[role].read_text(errors="replace")[-6000:], flush=True)
        return results
    finally:
        server.stop()


async def fresh_database(server_url: str) -> str:
    name = f"amp_fuzz_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(server_url.rsplit("/", 1)[0] + "/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    import asyncio

    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    results = run(asyncio.run(fresh_database(base)), args.max_examples, args.seed)
    print(results)
    sys.exit(max(results.values()))


if __name__ == "__main__":
    main()
