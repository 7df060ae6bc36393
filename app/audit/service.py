"""Writing and verifying the NEN 7513-style access log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app import clock
from app.audit import keys as audit_keys
from app.audit.chain import GENESIS, row_hash, row_mac, same
from app.audit.checkpoints import Checkpoint
from app.audit.keys import AuditKeys
from app.audit.models import AccessLogEntry, AdminAction, AdminTrailEntry
from app.auth.principal import Principal
from app.db import driver

log = structlog.get_logger("app.audit")

# Chain order must be commit order: the writer holds this lock until its transaction ends.
# The access_log_chain_guard trigger (migration 0012) takes it too, for any writer.
_CHAIN_LOCK = 7_513_001

_HEAD = "SELECT hash FROM access_log ORDER BY seq DESC LIMIT 1"
_INSERT = (
    "INSERT INTO access_log (id, at, action, intake_id, client_id, organisation, user_id, basis, emergency, "
    "prev_hash, hash, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
)

ACTIONS = (
    "read",
    "search",
    "create",
    "update",
    "export",
    "access_log_read",
    "erase",
    "webhook_delivery_read",  # an admin read the deliveries (event types, outcomes) about these intakes
    "webhook_replay",  # an admin queued these intakes' events again
    "idempotent_replay",  # a repeated request was answered with the stored answer about this intake
)
# Basis of the rows an administrator's webhook work writes (no consent scope is involved).
ADMIN_BASIS = "admin"


@dataclass(frozen=True)
class Actor:
    client_id: str
    organisation: str
    user_id: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.client_id, principal.organisation_code, principal.user)


SYSTEM = Actor("system", "aanmeldpunt")


async def record(
    db: AsyncSession,
    actor: Actor | Principal,
    action: str,
    accesses: Sequence[tuple[uuid.UUID | None, str]],
    *,
    emergency: bool = False,
) -> None:
    """One row per (intake id, basis) in `accesses`, chained, in the caller's transaction."""
    if not accesses:
        return
    who = Actor.of(actor) if isinstance(actor, Principal) else actor
    pg = await driver(db)  # plain SQL: this runs on every read of personal data
    await pg.execute("SELECT pg_advisory_xact_lock($1)", _CHAIN_LOCK)
    prev = await pg.fetchval(_HEAD) or GENESIS
    kid, key = audit_keys.keys().current
    now = clock.now()
    rows = []
    for intake_id, basis in accesses:
        fields: dict[str, Any] = {
            "id": uuid.uuid4(),
            "at": now,
            "action": action,
            "intake_id": intake_id,
            "client_id": who.client_id,
            "organisation": who.organisation,
            "user_id": who.user_id,
            "basis": basis,
            "emergency": emergency,
        }
        digest = row_mac(key, kid, prev, **fields)
        rows.append((*fields.values(), prev, digest, kid))
        prev = digest
    if len(rows) == 1:
        await pg.execute(_INSERT, *rows[0])
    else:
        await pg.executemany(_INSERT, rows)


async def record_admin_change(
    db: AsyncSession,
    actor: Actor | Principal,
    action: AdminAction,
    target: str,
    changes: Sequence[dict[str, Any]] = (),
    *,
    region: str | None = None,
    at: datetime | None = None,
) -> None:
    """One admin-trail row (who, when, what) in the caller's transaction: the change and its
    record commit together or not at all. `region` defaults to the principal's own;
    `ALL_REGIONS` for changes to the whole deployment (keys). No personal data of clients."""
    who = Actor.of(actor) if isinstance(actor, Principal) else actor
    if region is None:
        if not isinstance(actor, Principal):
            raise ValueError("an admin change by the system names its region")
        region = actor.region
    db.add(
        AdminTrailEntry(
            at=at or clock.now(),
            region=region,
            client_id=who.client_id,
            organisation=who.organisation,
            user_id=who.user_id,
            action=str(action),
            target=target[:200],
            changes=[jsonable(change) for change in changes],
        )
    )
    await db.flush()
    log.info("admin_change", action=str(action), client=who.client_id, org=who.organisation)


def jsonable(value: Any) -> Any:
    """Values of a change as JSON keeps them (UUIDs as text, datetimes in the one wire format,
    UTC with `Z`, as every other moment the API answers)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return clock.iso_z(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """`{path, from, to}` for every field whose value differs (a created thing: before = {})."""
    return [
        {"path": key, "from": jsonable(before.get(key)), "to": jsonable(after.get(key))}
        for key in after
        if jsonable(before.get(key)) != jsonable(after.get(key))
    ]


@dataclass
class VerifyResult:
    checked: int
    broken_seq: int | None
    reason: str | None
    # seq numbers skipped between rows whose links hold (a rolled-back write leaves its
    # identity value unused): reported, not a break, since the links show nothing is missing.
    gaps: list[int] = field(default_factory=list)


async def _rows(conn: AsyncConnection, batch: int = 10_000) -> AsyncIterator[AccessLogEntry]:
    """Every row in seq order from the lowest, whatever it is (a row planted with seq <= 0
    must be walked too, not skipped)."""
    table = AccessLogEntry.__table__
    after: int | None = None
    while True:
        query = select(table).order_by(table.c.seq).limit(batch)
        if after is not None:
            query = query.where(table.c.seq > after)
        rows = (await conn.execute(query)).all()
        if not rows:
            return
        for row in rows:
            yield row  # type: ignore[misc]
        after = rows[-1].seq


async def verify_chain(
    conn: AsyncConnection,
    keys: AuditKeys | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    *,
    legacy_max_seq: int | None = None,
) -> VerifyResult:
    """Walk the chain in order from its lowest seq; the first row whose link or seal does not
    hold is named. Rows sealed without the key (written before it existed) are accepted only
    up to `legacy_max_seq` (AUDIT_LEGACY_MAX_SEQ, a setting the database cannot change; unset:
    none), only before the first keyed row and before the first keyed row a checkpoint saw.
    Every checkpoint's row must be there with the checkpointed seal."""
    keys = keys or audit_keys.keys()
    prev = GENESIS
    checked = 0
    keyed = False
    last_seq: int | None = None
    gaps: list[int] = []
    pending = {c.seq: c for c in checkpoints}
    keyed_from = min((c.keyed_from for c in checkpoints if c.keyed_from is not None), default=None)
    async for row in _rows(conn):
        if row.seq <= 0:
            return VerifyResult(checked, row.seq, "its seq is not one the database assigns (planted)", gaps)
        if last_seq is not None and row.seq != last_seq + 1:
            gaps.append(last_seq + 1)
        last_seq = row.seq
        if row.prev_hash != prev:
            return VerifyResult(checked, row.seq, "the row before it was changed or deleted", gaps)
        fields: dict[str, Any] = {
            "id": row.id,
            "at": row.at,
            "action": row.action,
            "intake_id": row.intake_id,
            "client_id": row.client_id,
            "organisation": row.organisation,
            "user_id": row.user_id,
            "basis": row.basis,
            "emergency": row.emergency,
        }
        if row.key_id is None:
            if legacy_max_seq is None or row.seq > legacy_max_seq:
                boundary = "unset" if legacy_max_seq is None else f"seq {legacy_max_seq}"
                return VerifyResult(
                    checked,
                    row.seq,
                    "it carries no seal of the audit key, and unkeyed rows are accepted only up to "
                    f"AUDIT_LEGACY_MAX_SEQ ({boundary}): rewritten without the key, or the setting is missing",
                    gaps,
                )
            if keyed or (keyed_from is not None and row.seq >= keyed_from):
                return VerifyResult(
                    checked, row.seq, "it carries no seal of the audit key (rewritten without the key)", gaps
                )
            expected = row_hash(prev, **fields)
        else:
            key = keys.by_id(row.key_id)
            if key is None:
                return VerifyResult(
                    checked, row.seq, f"it was sealed with audit key {row.key_id}, which is not configured", gaps
                )
            keyed = True
            expected = row_mac(key, row.key_id, prev, **fields)
        if not same(expected, row.hash):
            return VerifyResult(
                checked, row.seq, "its content does not match its seal (changed without the audit key)", gaps
            )
        point = pending.pop(row.seq, None)
        if point is not None and not same(point.mac, row.hash):
            return VerifyResult(checked, row.seq, f"it differs from the checkpoint of {point.at}", gaps)
        prev = row.hash
        checked += 1
    if pending:
        first = min(pending)
        return VerifyResult(
            checked,
            first,
            f"the row was checkpointed at {pending[first].at} but is gone: the log was truncated",
            gaps,
        )
    return VerifyResult(checked, None, None, gaps)
