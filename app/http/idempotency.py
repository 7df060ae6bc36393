"""Idempotency-Key (IETF draft): the same key from the same caller with the same body within
24 h gets the first response again; another body → 422; while the first is in flight → 409.

The record is written in the same transaction as the change it answers, so a crash before
commit leaves neither, and a retry with the same key simply does the work."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.http.models import IdempotencyRecord
from app.http.problems import Problem, invalid

TTL = timedelta(hours=24)
_RECORDS: Table = IdempotencyRecord.__table__  # type: ignore[assignment]  # Core, not the unit of work: a hot path


class Idempotency:
    def __init__(self, owner: str, key: str | None, body: bytes) -> None:
        self.owner = owner
        self.key = key
        self.request_hash = hashlib.sha256(body).hexdigest()

    async def replay(self, db: AsyncSession) -> JSONResponse | None:
        """The earlier answer to replay, or None to go ahead (holding the key until commit)."""
        if self.key is None:
            return None
        if not 1 <= len(self.key) <= 255 or not self.key.isprintable():
            raise invalid([{"name": "Idempotency-Key", "reason": "1 to 255 printable characters."}])
        locked = await db.scalar(
            select(func.pg_try_advisory_xact_lock(func.hashtextextended(self.owner + "\x1f" + self.key, 0)))
        )
        if not locked:
            raise Problem(
                409,
                "Conflict",
                "A request with this Idempotency-Key is still being processed.",
                "idempotency-in-flight",
            )
        record = (
            await db.execute(select(_RECORDS).where(_RECORDS.c.owner == self.owner, _RECORDS.c.key == self.key))
        ).one_or_none()
        if record is None:
            return None
        if record.created_at < clock.now() - TTL:
            await db.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.owner == self.owner, IdempotencyRecord.key == self.key
                )
            )
            return None
        if record.request_hash != self.request_hash:
            raise Problem(
                422,
                "Unprocessable Content",
                "This Idempotency-Key was used with a different body.",
                "idempotency-mismatch",
            )
        return JSONResponse(
            json.loads(record.body),
            status_code=record.status_code,
            headers={**record.headers, "Idempotent-Replayed": "true"},
        )

    async def respond(
        self, db: AsyncSession, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        content = jsonable_encoder(body, by_alias=True)
        if self.key is not None:
            await db.execute(
                insert(_RECORDS).values(
                    owner=self.owner,
                    key=self.key,
                    request_hash=self.request_hash,
                    status_code=status,
                    body=json.dumps(content),
                    headers=headers or {},
                    created_at=clock.now(),
                )
            )
        return JSONResponse(content, status_code=status, headers=headers)
