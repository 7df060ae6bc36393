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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

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


# Names of "the PostgreSQL server on this machine" (TCP loopback, or the default Unix socket):
# a URL spelled with any of them names the same database.
_LOCAL = frozenset({"", "localhost", "127.0.0.1", "::1", "[::1]"})


def database_identity(database_url: str) -> str:
    """host:port/name of the database, the same however its URL is spelled: no driver prefix,
    user, password or options; host lower-case, the local server's names (localhost, loopback,
    a Unix socket) as `localhost`, port 5432 when none is given. Checkpoints are matched on it."""
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    host, port = _host_port(netloc.split(",", 1)[0])  # several hosts: the first names the cluster
    host = host or query.get("host", [""])[0]
    port = port or query.get("port", [""])[0]
    name = unquote(parts.path.lstrip("/")) or query.get("dbname", [""])[0]
    return _identity(host, port, name)


def _host_port(netloc: str) -> tuple[str, str]:
    if netloc.startswith("["):  # [IPv6]:port
        host, _, rest = netloc[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = netloc.partition(":")
    return unquote(host), port


def _identity(host: str, port: str | int, name: str) -> str:
    host = host.strip().lower()
    if host in _LOCAL or host.startswith("/"):  # a Unix-socket directory is this machine
        host = "localhost"
    return f"{host}:{int(port or 5432)}/{name}"


def same_database(written: str, database: str) -> bool:
    """Whether a checkpoint line's identity (as written, perhaps by an older version that
    did not normalise) names `database`."""
    host_port, _, name = written.partition("/")
    host, _, port = host_port.rpartition(":")
    try:
        return _identity(host, port, name) == database
    except ValueError:
        return False


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


@dataclass
class CheckpointFile:
    """What a checkpoint file holds for one database."""

    found: list[Checkpoint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # lines that are not valid checkpoints
    other_databases: dict[str, int] = field(default_factory=dict)  # identity -> number of lines


def read(path: Path, database: str, keys: AuditKeys) -> CheckpointFile:
    """The checkpoints of `database` in the file, the problems with the file's lines (a line
    whose signature does not hold was not written by this service), and how many lines are of
    other databases (reported, so a DATABASE_URL naming another database is noticed)."""
    file = CheckpointFile()
    if not path.exists():
        return file
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            point = Checkpoint(**json.loads(line))
        except (TypeError, ValueError):
            file.problems.append(f"line {number} is not a checkpoint")
            continue
        if not same_database(point.database, database):
            file.other_databases[point.database] = file.other_databases.get(point.database, 0) + 1
            continue
        key = keys.by_id(point.key_id)
        if key is None or not same(
            checkpoint_signature(key, point.database, point.seq, point.mac, point.at, point.keyed_from),
            point.signature,
        ):
            file.problems.append(f"line {number}: its signature does not hold")
            continue
        file.found.append(point)
    return file
