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
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.db import driver
from app.http.problems import Problem, invalid

TTL = timedelta(hours=24)
# Plain SQL on the driver connection, in the request's transaction: a hot path (app.db.driver).
_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))"
_FIND = (
    "SELECT request_hash, status_code, body, headers, created_at FROM idempotency_keys WHERE owner = $1 AND key = $2"
)
_FORGET = "DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2"
_SAVE = (
    "INSERT INTO idempotency_keys (owner, key, request_hash, status_code, body, headers, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
JSON_MEDIA_TYPE = "application/json"


class Idempotency:
    def __init__(self, owner: str, key: str | None, body: bytes) -> None:
        self.owner = owner
        self.key = key
        self.request_hash = hashlib.sha256(body).hexdigest()

    async def replay(self, db: AsyncSession) -> Response | None:
        """The earlier answer to replay, or None to go ahead (holding the key until commit)."""
        if self.key is None:
            return None
        if not 1 <= len(self.key) <= 255 or not self.key.isprintable():
            raise invalid([{"name": "Idempotency-Key", "reason": "1 to 255 printable characters."}])
        pg = await driver(db)
        if not await pg.fetchval(_LOCK, self.owner + "\x1f" + self.key):
            raise Problem(
                409,
                "Conflict",
                "A request with this Idempotency-Key is still being processed.",
                "idempotency-in-flight",
            )
        record = await pg.fetchrow(_FIND, self.owner, self.key)
        if record is None:
            return None
        if record["created_at"] < clock.now() - TTL:
            await pg.execute(_FORGET, self.owner, self.key)
            return None
        if record["request_hash"] != self.request_hash:
            raise Problem(
                422,
                "Unprocessable Content",
                "This Idempotency-Key was used with a different body.",
                "idempotency-mismatch",
            )
        # The stored bytes, as first sent: no parsing and dumping again.
        return Response(
            record["body"],
            status_code=record["status_code"],
            headers={**record["headers"], "Idempotent-Replayed": "true"},
            media_type=JSON_MEDIA_TYPE,
        )

    async def respond(
        self, db: AsyncSession, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> Response:
        """The answer, recorded for a retry. A response model is dumped to JSON once, by
        pydantic, for both."""
        if isinstance(body, BaseModel):
            content = body.model_dump_json(by_alias=True)
        else:
            content = json.dumps(jsonable_encoder(body, by_alias=True), ensure_ascii=False, separators=(",", ":"))
        if self.key is not None:
            pg = await driver(db)
            await pg.execute(
                _SAVE, self.owner, self.key, self.request_hash, status, content, json.dumps(headers or {}), clock.now()
            )
        return Response(content, status_code=status, headers=headers, media_type=JSON_MEDIA_TYPE)
