"""Fixed-window rate limits kept in PostgreSQL, so every replica counts together."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from app import clock
from app.db import session_factory
from app.http.problems import Problem

_UPSERT = text(
    """
    INSERT INTO rate_windows (bucket, window_start, count) VALUES (:bucket, :start, 1)
    ON CONFLICT (bucket) DO UPDATE SET
        count = CASE WHEN rate_windows.window_start = excluded.window_start
                     THEN rate_windows.count + 1 ELSE 1 END,
        window_start = excluded.window_start
    RETURNING count
    """
)


async def enforce(bucket: str, limit: int, window_seconds: int) -> None:
    """Count one hit; past the limit raise 429 with Retry-After (seconds to the next window)."""
    now = clock.now().timestamp()
    start = int(now // window_seconds) * window_seconds
    async with session_factory()() as db:
        count = await db.scalar(_UPSERT, {"bucket": bucket, "start": datetime.fromtimestamp(start, UTC)})
        await db.commit()
    if count is not None and count > limit:
        retry_after = max(1, int(start + window_seconds - now))
        raise Problem(
            429,
            "Too Many Requests",
            "Too many requests from this address; try again later.",
            "rate-limited",
            headers={"Retry-After": str(retry_after)},
        )
