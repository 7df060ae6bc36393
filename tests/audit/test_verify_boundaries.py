"""Issue 13, attacker review (HIGH): `audit verify` must not accept a log rewritten by a
database superuser who strips every row's key id and recomputes plain SHA-256 seals, nor say
OK when it finds no checkpoint of the database (a missing file, a DATABASE_URL spelled
differently). Unkeyed rows are accepted only up to AUDIT_LEGACY_MAX_SEQ, a setting the
database does not control; no checkpoint is a failure unless --allow-no-checkpoint."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.audit import checkpoints
from app.audit import keys as audit_keys
from app.audit.service import verify_chain
from app.db import get_engine
from tests.audit.test_audit_chain import _checkpoint, _first_seq, _legacy_rows, _rewrite, _some_rows, _superuser


@pytest.fixture
def checkpoint_file(tmp_path: Path, settings):
    path = tmp_path / "audit.checkpoints.jsonl"
    settings.audit_checkpoint_file = path
    return path


async def _verify(legacy_max_seq: int | None = None, points: list[checkpoints.Checkpoint] | None = None):
    async with get_engine().connect() as conn:
        return await verify_chain(conn, audit_keys.keys(), points or [], legacy_max_seq=legacy_max_seq)


async def test_stripped_keys_without_any_checkpoint_are_found(client, database_url) -> None:
    """The attack: no checkpoint exists (or none is found), every key id is stripped and the
    chain recomputed with SHA-256. Before the fix this verified as a 'pre-key legacy' log."""
    await _some_rows(client)
    await _rewrite(database_url, strip_keys=True)
    result = await _verify()
    assert result.broken_seq == await _first_seq(database_url)
    assert "AUDIT_LEGACY_MAX_SEQ" in (result.reason or "")


async def test_unkeyed_rows_verify_only_up_to_the_configured_legacy_boundary(client, database_url) -> None:
    await _legacy_rows(database_url, 3)
    await _some_rows(client)
    first = await _first_seq(database_url)
    assert (await _verify(legacy_max_seq=first + 2)).broken_seq is None
    unset = await _verify()
    assert unset.broken_seq == first and "AUDIT_LEGACY_MAX_SEQ" in (unset.reason or "")
    short = await _verify(legacy_max_seq=first + 1)
    assert short.broken_seq == first + 2 and "AUDIT_LEGACY_MAX_SEQ" in (short.reason or "")


def _cli(
    settings, database_url: str, checkpoint_file: Path, *extra: str, **more_env: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AUDIT_CHECKPOINT_FILE": str(checkpoint_file),
        "DATA_DIR": str(settings.data_dir),
        **more_env,
    }
    env.pop("AUDIT_LEGACY_MAX_SEQ", None)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_verify_fails_when_no_checkpoint_of_the_database_is_found(
    client, settings, database_url, checkpoint_file
) -> None:
    await _some_rows(client)
    assert not checkpoint_file.exists()
    done = _cli(settings, database_url, checkpoint_file)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NO CHECKPOINT" in done.stdout and "truncated" in done.stdout

    allowed = _cli(settings, database_url, checkpoint_file, "--allow-no-checkpoint")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "WARNING" in allowed.stdout and "truncated tail cannot be detected" in allowed.stdout


async def test_checkpoints_of_another_database_are_counted_not_silently_skipped(
    client, settings, database_url, checkpoint_file
) -> None:
    await _some_rows(client)
    elsewhere = database_url.rsplit("/", 1)[0] + "/some_other_database"
    await _checkpoint(settings, database_url)
    line = json.loads(checkpoint_file.read_text())
    # a line of another database, signed properly (as the service there would have)
    conn = await _superuser(database_url)
    try:
        await checkpoints.write(conn, settings, elsewhere, audit_keys.keys())
    finally:
        await conn.close()
    file = checkpoints.read(checkpoint_file, checkpoints.database_identity(database_url), audit_keys.keys())
    assert [p.seq for p in file.found] == [line["seq"]] and file.problems == []
    assert file.other_databases == {checkpoints.database_identity(elsewhere): 1}

    # only the other database's line: verify fails, and says what it saw instead
    checkpoint_file.write_text(checkpoint_file.read_text().splitlines()[1] + "\n")
    done = _cli(settings, database_url, checkpoint_file)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NO CHECKPOINT" in done.stdout and "1 line of another database" in done.stdout


@pytest.mark.parametrize(
    "spelling",
    [
        "postgresql://postgres@127.0.0.1:5432/amp",
        "postgresql+asyncpg://postgres:secret@127.0.0.1/amp",
        "postgresql://other:pw@LOCALHOST:5432/amp?sslmode=disable",
        "postgresql://localhost/amp",
        "postgresql:///amp",
        "postgresql://u:@/amp?host=/var/run/postgresql",
        "postgres://u@[::1]:5432/amp",
        "postgresql://u@127.0.0.1:5432/?dbname=amp",
    ],
)
def test_one_database_is_one_identity_however_its_url_is_spelled(spelling: str) -> None:
    assert checkpoints.database_identity(spelling) == "localhost:5432/amp"


def test_different_databases_stay_different_identities() -> None:
    ids = {
        checkpoints.database_identity(url)
        for url in (
            "postgresql://u@db1:5432/amp",
            "postgresql://u@db2:5432/amp",
            "postgresql://u@db1:5433/amp",
            "postgresql://u@db1:5432/amp2",
            "postgresql://u@127.0.0.1:5433/amp",
        )
    }
    assert len(ids) == 5


def test_a_checkpoint_line_in_the_old_identity_spelling_still_counts(tmp_path: Path) -> None:
    """Lines written before the identity was normalised (e.g. '127.0.0.1:5432/amp') keep
    matching: the stored identity is normalised again when read (its signature covers it as
    written)."""
    from app.audit.chain import checkpoint_signature

    kid, key = audit_keys.keys().current
    written = "127.0.0.1:5432/amp"
    signature = checkpoint_signature(key, written, 4, "ab" * 32, "2026-12-06T09:00:00Z", 1)
    point = {
        "database": written,
        "seq": 4,
        "mac": "ab" * 32,
        "at": "2026-12-06T09:00:00Z",
        "key_id": kid,
        "signature": signature,
        "keyed_from": 1,
    }
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(point) + "\n")
    file = checkpoints.read(path, checkpoints.database_identity("postgresql://x@localhost/amp"), audit_keys.keys())
    assert [p.seq for p in file.found] == [4] and file.other_databases == {} and file.problems == []


async def test_rows_that_no_checkpoint_covers_long_after_one_was_due_are_reported(
    client, settings, database_url, checkpoint_file
) -> None:
    """Red team: the unseen-cut window is AUDIT_CHECKPOINT_SECONDS only while the workers write
    checkpoints. When they stop (no worker running, the file not writable: only a warning in
    their log), verify said "ok" and the window grew without bound, unseen. It now names the
    oldest row no checkpoint covers once one was due for it."""
    await _some_rows(client)
    await _checkpoint(settings, database_url)
    await _some_rows(client)
    await asyncio.sleep(0.1)
    stale = _cli(settings, database_url, checkpoint_file, AUDIT_CHECKPOINT_SECONDS="0.01")
    assert stale.returncode == 0, stale.stdout + stale.stderr
    assert "WARNING" in stale.stdout and "no checkpoint covers" in stale.stdout, stale.stdout
    assert stale.stdout.strip().splitlines()[-1].startswith("ok: ")
    fresh = _cli(settings, database_url, checkpoint_file)
    assert fresh.returncode == 0 and "no checkpoint covers" not in fresh.stdout, fresh.stdout
