"""Signing keys: generated on first start, stored in the database (so every replica signs
and verifies alike), rotated without downtime (old keys stay published until retired)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import clock
from app.auth.models import SigningKey
from app.auth.tokens import ALLOWED_ALGORITHMS, KeyPair, PublicKey, generate_key

log = structlog.get_logger("app.auth")


async def ensure_signing_key(db: AsyncSession) -> None:
    """Create the first key if there is none (one replica at a time)."""
    await db.execute(text("SELECT pg_advisory_xact_lock(7514)"))
    current = await db.scalar(select(SigningKey.kid).where(SigningKey.retire_at.is_(None)).limit(1))
    if current is None:
        await _insert(db, generate_key())


async def rotate(db: AsyncSession, retire_after: timedelta) -> str:
    """A new key signs from now on; the old ones verify until `retire_after` has passed."""
    await db.execute(text("SELECT pg_advisory_xact_lock(7514)"))
    await db.execute(
        update(SigningKey).where(SigningKey.retire_at.is_(None)).values(retire_at=clock.now() + retire_after)
    )
    key = generate_key()
    await _insert(db, key)
    return key.kid


async def _insert(db: AsyncSession, key: KeyPair) -> None:
    db.add(
        SigningKey(
            kid=key.kid,
            algorithm=key.algorithm,
            private_pem=key.private_pem,
            public_jwk=key.public_jwk,
            created_at=clock.now(),
        )
    )
    await db.flush()


class KeyRing:
    """The keys in memory, re-read from the database at most `refresh_seconds` after the last
    read (lazily, on the next use) and at once when a token names a kid we have not seen
    (rate-limited): a running server signs with the key `aanmeldpunt rotate-keys` made within
    `refresh_seconds`, and refuses a retired key from its `retire_at` on (checked against the
    clock on every use, not only on reload)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], refresh_seconds: float = 5.0) -> None:
        self._sessions = sessions
        self.refresh_seconds = refresh_seconds
        self._public: dict[str, PublicKey] = {}
        self._retire_at: dict[str, datetime] = {}
        self._signing: KeyPair | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        async with self._sessions() as db:
            rows = (
                await db.scalars(
                    select(SigningKey)
                    .where(or_(SigningKey.retire_at.is_(None), SigningKey.retire_at > clock.now()))
                    .order_by(SigningKey.created_at)
                )
            ).all()
        self._public = {
            r.kid: PublicKey(r.kid, r.algorithm, r.public_jwk) for r in rows if r.algorithm in ALLOWED_ALGORITHMS
        }
        self._retire_at = {r.kid: r.retire_at for r in rows if r.retire_at is not None}
        signers = [r for r in rows if r.retire_at is None]
        if signers:
            newest = signers[-1]
            self._signing = KeyPair(newest.kid, newest.algorithm, newest.private_pem, newest.public_jwk)
        self._loaded_at = time.monotonic()

    async def refresh(self, *, force: bool = False) -> None:
        """Reload when the copy in memory is older than `refresh_seconds` (or `force`)."""
        if not force and time.monotonic() - self._loaded_at < self.refresh_seconds:
            return
        async with self._lock:
            if not force and time.monotonic() - self._loaded_at < self.refresh_seconds:
                return  # another request reloaded while this one waited
            await self.load()

    async def current_signing_key(self) -> KeyPair:
        await self.refresh()
        return self.signing_key

    @property
    def signing_key(self) -> KeyPair:
        if self._signing is None:
            raise RuntimeError("no signing key loaded")
        return self._signing

    def public_keys(self) -> dict[str, PublicKey]:
        """The keys that verify now: a key past its retire_at is gone from this moment on."""
        now = clock.now()
        retired = {kid for kid, at in self._retire_at.items() if at <= now}
        if not retired:
            return self._public
        return {kid: key for kid, key in self._public.items() if kid not in retired}

    async def public_keys_knowing(self, kid: Any) -> dict[str, PublicKey]:
        await self.refresh()
        if isinstance(kid, str) and kid not in self._public and time.monotonic() - self._loaded_at > 1:
            await self.refresh(force=True)
        return self.public_keys()

    async def jwks(self) -> dict[str, Any]:
        await self.refresh()
        return {"keys": [dict(k.jwk) for k in self.public_keys().values()]}


class ExternalKeys:
    """JWKS of an external identity provider, fetched and cached."""

    def __init__(self, url: str, ttl_seconds: float = 600) -> None:
        self.url = url
        self.ttl = ttl_seconds
        self._keys: dict[str, PublicKey] = {}
        self._fetched_at = 0.0

    async def keys(self, kid: Any) -> dict[str, PublicKey]:
        stale = time.monotonic() - self._fetched_at > self.ttl
        unknown = isinstance(kid, str) and kid not in self._keys
        if stale or (unknown and time.monotonic() - self._fetched_at > 5):
            try:
                async with httpx.AsyncClient(timeout=5, follow_redirects=False) as client:
                    response = await client.get(self.url)
                    response.raise_for_status()
                    document = response.json()
                self._keys = {
                    k["kid"]: PublicKey(k["kid"], k.get("alg", "RS256"), k)
                    for k in document.get("keys", [])
                    if isinstance(k, dict) and "kid" in k and k.get("alg", "RS256") in ALLOWED_ALGORITHMS
                }
                self._fetched_at = time.monotonic()
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                log.warning("external_jwks_unavailable", error=type(exc).__name__)
        return self._keys
