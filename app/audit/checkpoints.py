"""Checkpoints of the access log, kept outside the database: the newest row's seq and seal,
signed with the audit key, appended as one JSON line to a file (and logged, for the
operator's log store). `audit verify` requires every checkpointed row to be there with that
seal, so deleting the newest rows (which keeps the rest of the chain intact) is found.

Written by the workers every AUDIT_CHECKPOINT_SECONDS and by `aanmeldpunt audit checkpoint`.
What was written after the newest checkpoint can still be removed unnoticed by someone with
superuser rights on the database: that window is AUDIT_CHECKPOINT_SECONDS (SECURITY.md)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog

from app import clock
from app.audit.chain import checkpoint_signature, same
from app.audit.keys import AuditKeys

log = structlog.get_logger("app.audit")

_HEAD = "SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1"
_FIRST_KEYED = "SELECT min(seq) FROM access_log WHERE key_id IS NOT NULL"


@dataclass(frozen=True)
class Checkpoint:
    database: str
    seq: int
    mac: str
    at: str
    key_id: str
    signature: str
    # The first row sealed with a key: rows from here on must all be keyed (a rewrite that
    # strips the keys to pass as rows from before the key is found by this).
    keyed_from: int | None = None


def database_identity(database_url: str) -> str:
    """host:port/name of the database (no credentials): which log a checkpoint is of."""
    parts = urlsplit(database_url)
    host = parts.hostname or parse_qs(parts.query).get("host", [""])[0]
    return f"{host}:{parts.port or 5432}/{parts.path.lstrip('/')}"


def path_for(settings: Any, database_url: str) -> Path:
    if settings.audit_checkpoint_file:
        return Path(settings.audit_checkpoint_file)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", database_identity(database_url)).strip("_")
    return Path(settings.data_dir) / "audit-checkpoints" / f"{slug}.jsonl"


async def write(conn: Any, settings: Any, database_url: str, keys: AuditKeys) -> Checkpoint | None:
    """Append a checkpoint of the newest row (None while the log is empty). `conn` is an
    asyncpg connection."""
    head = await conn.fetchrow(_HEAD)
    if head is None:
        return None
    database = database_identity(database_url)
    kid, key = keys.current
    at = clock.iso_z(clock.now())
    seq, mac = int(head["seq"]), str(head["hash"])
    keyed_from = await conn.fetchval(_FIRST_KEYED)
    signature = checkpoint_signature(key, database, seq, mac, at, keyed_from)
    point = Checkpoint(database, seq, mac, at, kid, signature, keyed_from)
    path = path_for(settings, database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(point), separators=(",", ":")) + "\n")
    log.info("audit_checkpoint", database=database, seq=point.seq, mac=point.mac, signature=point.signature)
    return point


def read(path: Path, database: str, keys: AuditKeys) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints of `database` in the file, and the problems with the file's lines (a
    line whose signature does not hold was not written by this service)."""
    if not path.exists():
        return [], []
    found, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            point = Checkpoint(**json.loads(line))
        except (TypeError, ValueError):
            problems.append(f"line {number} is not a checkpoint")
            continue
        if point.database != database:
            continue
        key = keys.by_id(point.key_id)
        if key is None or not same(
            checkpoint_signature(key, point.database, point.seq, point.mac, point.at, point.keyed_from),
            point.signature,
        ):
            problems.append(f"line {number}: its signature does not hold")
            continue
        found.append(point)
    return found, problems
