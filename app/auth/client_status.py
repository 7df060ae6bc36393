"""Is a client still active? Asked on every request with one of our tokens, answered from a
copy at most `ttl` seconds old (CLIENT_STATUS_CACHE_SECONDS, ≤ 5): a client deactivated
through this process is refused from its next request, one deactivated through another
replica within the bound."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import ApiClient


class ClientStatus:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_seconds: float) -> None:
        self._sessions = sessions
        self.ttl = ttl_seconds
        self._seen: dict[str, tuple[bool, float]] = {}
        self._lock = asyncio.Lock()

    async def active(self, client_id: str) -> bool:
        cached = self._seen.get(client_id)
        if cached is not None and time.monotonic() - cached[1] < self.ttl:
            return cached[0]
        async with self._sessions() as db:
            active = await db.scalar(select(ApiClient.active).where(ApiClient.client_id == client_id))
        state = bool(active)  # an unknown client is not active
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[client_id] = (state, time.monotonic())
        return state

    def forget(self, client_id: str) -> None:
        """The client changed here: the next request reads the database."""
        self._seen.pop(client_id, None)
