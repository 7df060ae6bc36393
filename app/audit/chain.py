"""The access log's chain, pure: how one row is sealed onto the previous one.

Each row's `hash` is an HMAC-SHA256, under the audit key, of the previous row's `hash` and
the row's own content (with the id of the key that sealed it). The key is not in the
database (AUDIT_KEY / AUDIT_KEY_FILE, app.audit.keys), so whoever can write the table (a
database owner, a superuser, a stolen dump restored elsewhere) cannot recompute a chain
that verifies. Rows written before the key existed (key_id NULL) were sealed with plain
SHA-256; they are accepted only as the chain's beginning, never after a keyed row, and only
up to AUDIT_LEGACY_MAX_SEQ (a setting of the verifier, not of the database).

Checkpoints (the newest seq and its MAC, signed with the same key) are kept outside the
database and compared by `audit verify`, so a deleted tail is found too."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import TypedDict, Unpack

GENESIS = "0" * 64


class RowFields(TypedDict):
    """What of an access-log row its seal covers."""

    id: uuid.UUID
    at: datetime
    action: str
    intake_id: uuid.UUID | None
    client_id: str
    organisation: str
    user_id: str | None
    basis: str
    emergency: bool


def _canonical(key_id: str | None = None, **row: Unpack[RowFields]) -> str:
    id, at, intake_id = row["id"], row["at"], row["intake_id"]
    fields: list[object] = [
        str(id),
        at.isoformat(timespec="microseconds"),
        row["action"],
        str(intake_id) if intake_id else None,
        row["client_id"],
        row["organisation"],
        row["user_id"],
        row["basis"],
        row["emergency"],
    ]
    if key_id is not None:
        fields.append(key_id)
    return json.dumps(fields, separators=(",", ":"))


def row_hash(prev_hash: str, **row: Unpack[RowFields]) -> str:
    """The unkeyed seal of rows written before the audit key (legacy; verify only)."""
    return hashlib.sha256((prev_hash + _canonical(**row)).encode()).hexdigest()


def row_mac(key: bytes, key_id: str, prev_hash: str, **row: Unpack[RowFields]) -> str:
    """The keyed seal of a row: HMAC-SHA256(key, previous seal + canonical row + key id)."""
    return hmac.new(key, (prev_hash + _canonical(key_id, **row)).encode(), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short public name of a key (stored on each row; reveals nothing of the key)."""
    return hashlib.sha256(b"aanmeldpunt-audit-key-id\x00" + key).hexdigest()[:16]


def checkpoint_signature(key: bytes, database: str, seq: int, mac: str, at: str, keyed_from: int | None) -> str:
    """The signature of a checkpoint line: the database, the newest row and its seal, when,
    and the first row sealed with a key (every later row must be keyed)."""
    message = json.dumps([database, seq, mac, at, keyed_from], separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
