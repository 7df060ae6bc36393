"""Writing and verifying the NEN 7513-style access log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app import clock
from app.audit.chain import GENESIS, row_hash
from app.audit.models import AccessLogEntry
from app.auth.principal import Principal
from app.db import driver

log = structlog.get_logger("app.audit")

# Chain order must be commit order: the writer holds this lock until its transaction ends.
_CHAIN_LOCK = 7_513_001

_HEAD = "SELECT hash FROM access_log ORDER BY seq DESC LIMIT 1"
_INSERT = (
    "INSERT INTO access_log (id, at, action, intake_id, client_id, organisation, user_id, basis, emergency, "
    "prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
)

ACTIONS = ("read", "search", "create", "update", "export", "access_log_read", "erase")


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
        digest = row_hash(prev, **fields)
        rows.append((*fields.values(), prev, digest))
        prev = digest
    if len(rows) == 1:
        await pg.execute(_INSERT, *rows[0])
    else:
        await pg.executemany(_INSERT, rows)


async def record_admin_access(db: AsyncSession, principal: Principal, action: str) -> None:
    """Admin changes hold no personal data of clients; they go to the operational log."""
    del db
    log.info("admin_change", action=action, client=principal.client_id, org=principal.organisation_code)


@dataclass
class VerifyResult:
    checked: int
    broken_seq: int | None
    reason: str | None


async def _rows(conn: AsyncConnection, batch: int = 10_000) -> AsyncIterator[AccessLogEntry]:
    after = 0
    while True:
        result = await conn.execute(
            select(AccessLogEntry.__table__).where(AccessLogEntry.seq > after).order_by(AccessLogEntry.seq).limit(batch)
        )
        rows = result.all()
        if not rows:
            return
        for row in rows:
            yield row  # type: ignore[misc]
        after = rows[-1].seq


async def verify_chain(conn: AsyncConnection) -> VerifyResult:
    """Walk the chain in order; the first row whose link or hash does not hold is named."""
    prev = GENESIS
    checked = 0
    async for row in _rows(conn):
        if row.prev_hash != prev:
            return VerifyResult(checked, row.seq, "the row before it was changed or deleted")
        expected = row_hash(
            prev,
            id=row.id,
            at=row.at,
            action=row.action,
            intake_id=row.intake_id,
            client_id=row.client_id,
            organisation=row.organisation,
            user_id=row.user_id,
            basis=row.basis,
            emergency=row.emergency,
        )
        if expected != row.hash:
            return VerifyResult(checked, row.seq, "its content does not match its hash")
        prev = row.hash
        checked += 1
    return VerifyResult(checked, None, None)
