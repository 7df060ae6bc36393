"""Issue 13 point 3: the access log cannot be rewritten or cut short undetected by someone
who can write the table (a superuser here), because its seals need the audit key that the
database does not hold, and checkpoints of its head are kept outside the database."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from app import clock
from app.audit import checkpoints
from app.audit import keys as audit_keys
from app.audit.chain import GENESIS, _canonical, row_hash
from app.audit.service import verify_chain
from app.db import get_engine
from tests.support.helpers import auth_for, referral

ROW = "id, at, action, intake_id, client_id, organisation, user_id, basis, emergency"


@pytest.fixture
def checkpoint_file(tmp_path: Path, settings):
    path = tmp_path / "audit.checkpoints.jsonl"
    settings.audit_checkpoint_file = path
    return path


async def _some_rows(client) -> None:
    staff, referrer = await auth_for(client, "staff"), await auth_for(client, "referrer")
    for _ in range(3):
        intake = (await client.post("/api/v1/referrals", json=referral(), headers=referrer)).json()
        assert (await client.get(f"/api/v1/intakes/{intake['id']}", headers=staff)).status_code == 200


async def _verify(settings, database_url: str, legacy_max_seq: int | None = None):
    keys = audit_keys.keys()
    file = checkpoints.read(
        checkpoints.path_for(settings, database_url), checkpoints.database_identity(database_url), keys
    )
    async with get_engine().connect() as conn:
        return await verify_chain(conn, keys, file.found, legacy_max_seq=legacy_max_seq), file.problems


async def _superuser(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))


async def _checkpoint(settings, database_url: str) -> checkpoints.Checkpoint:
    conn = await _superuser(database_url)
    try:
        point = await checkpoints.write(conn, settings, database_url, audit_keys.keys())
    finally:
        await conn.close()
    assert point is not None
    return point


async def test_intact_log_verifies_with_its_checkpoint(client, settings, database_url, checkpoint_file) -> None:
    await _some_rows(client)
    point = await _checkpoint(settings, database_url)
    result, problems = await _verify(settings, database_url)
    assert problems == [] and result.broken_seq is None and result.checked == point.seq >= 6


async def _rewrite(database_url: str, *, strip_keys: bool) -> None:
    """What the owner of the table could do before: disable the trigger, edit a row, recompute
    every seal after it with what needs no secret (SHA-256), enable the trigger."""
    conn = await _superuser(database_url)
    try:
        await conn.execute("ALTER TABLE access_log DISABLE TRIGGER USER")
        victim = await conn.fetchval("SELECT seq FROM access_log ORDER BY seq OFFSET 1 LIMIT 1")
        await conn.execute("UPDATE access_log SET organisation = 'niemand' WHERE seq = $1", victim)
        if strip_keys:  # pass the rows off as written before the audit key existed
            await conn.execute("UPDATE access_log SET key_id = NULL")
        prev = GENESIS
        for row in await conn.fetch(f"SELECT seq, {ROW} FROM access_log ORDER BY seq"):
            digest = row_hash(prev, **{k: row[k] for k in ROW.split(", ")})
            await conn.execute(
                "UPDATE access_log SET prev_hash = $1, hash = $2 WHERE seq = $3", prev, digest, row["seq"]
            )
            prev = digest
        await conn.execute("ALTER TABLE access_log ENABLE TRIGGER USER")
    finally:
        await conn.close()


async def _first_seq(database_url: str) -> int:
    conn = await _superuser(database_url)
    try:
        return int(await conn.fetchval("SELECT min(seq) FROM access_log"))
    finally:
        await conn.close()


async def test_rewrite_with_recomputed_hashes_is_detected(client, settings, database_url, checkpoint_file) -> None:
    await _some_rows(client)
    await _rewrite(database_url, strip_keys=False)
    result, _ = await _verify(settings, database_url)
    assert result.broken_seq == await _first_seq(database_url)  # no longer matches its keyed seal
    assert "seal" in (result.reason or "")


async def test_rewrite_passed_off_as_rows_from_before_the_key_is_detected(
    client, settings, database_url, checkpoint_file
) -> None:
    """Stripping the key ids makes the rows look like rows from before the audit key, which
    verify with plain SHA-256; the checkpoint the workers wrote meanwhile knows better."""
    await _some_rows(client)
    await _checkpoint(settings, database_url)
    await _rewrite(database_url, strip_keys=True)
    result, _ = await _verify(settings, database_url)
    assert result.broken_seq == await _first_seq(database_url) and "no seal" in (result.reason or "")


async def _legacy_rows(database_url: str, count: int) -> None:
    """Rows as the service wrote them before the audit key (plain SHA-256, no key id)."""
    conn = await _superuser(database_url)
    try:
        prev = GENESIS
        for n in range(count):
            fields = {
                "id": uuid.uuid4(),
                "at": clock.now(),
                "action": "read",
                "intake_id": None,
                "client_id": f"old-{n}",
                "organisation": "aanmeldpunt-rotterdam",
                "user_id": None,
                "basis": "processing",
                "emergency": False,
            }
            digest = row_hash(prev, **fields)
            await conn.execute(
                f"INSERT INTO access_log ({ROW}, prev_hash, hash) VALUES ({', '.join(f'${i}' for i in range(1, 12))})",
                *fields.values(),
                prev,
                digest,
            )
            prev = digest
    finally:
        await conn.close()


async def test_rows_from_before_the_key_verify_as_the_chain_start(
    client, settings, database_url, checkpoint_file
) -> None:
    """A database upgraded to the keyed log: its old rows (plain SHA-256, no key id) verify
    as the beginning of the chain, up to AUDIT_LEGACY_MAX_SEQ, and the keyed rows follow on them."""
    await _legacy_rows(database_url, 3)
    await _some_rows(client)
    await _checkpoint(settings, database_url)
    result, problems = await _verify(settings, database_url, legacy_max_seq=3)
    assert problems == [] and result.broken_seq is None and result.checked == 3 + 6


async def test_truncated_tail_is_detected_by_the_checkpoint(client, settings, database_url, checkpoint_file) -> None:
    await _some_rows(client)
    point = await _checkpoint(settings, database_url)
    conn = await _superuser(database_url)
    try:
        await conn.execute("ALTER TABLE access_log DISABLE TRIGGER USER")
        await conn.execute("DELETE FROM access_log WHERE seq > $1", point.seq - 2)
        await conn.execute("ALTER TABLE access_log ENABLE TRIGGER USER")
    finally:
        await conn.close()
    result, _ = await _verify(settings, database_url)
    assert result.broken_seq == point.seq and "truncated" in (result.reason or "")

    # through the command an operator runs
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AUDIT_CHECKPOINT_FILE": str(checkpoint_file),
        "DATA_DIR": str(settings.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "truncated" in done.stdout


async def test_a_forged_checkpoint_line_is_reported(client, settings, database_url, checkpoint_file) -> None:
    await _some_rows(client)
    point = await _checkpoint(settings, database_url)
    forged = checkpoint_file.read_text().replace(f'"seq":{point.seq}', f'"seq":{point.seq - 3}')
    checkpoint_file.write_text(forged)
    _, problems = await _verify(settings, database_url)
    assert problems == ["line 1: its signature does not hold"]


def test_key_id_names_the_key_without_revealing_it() -> None:
    from app.audit.chain import key_id

    key = b"k" * 48
    assert key_id(key) != hashlib.sha256(key).hexdigest()[:16] and len(key_id(key)) == 16
    assert _canonical.__name__  # the canonical form is shared by both seals
