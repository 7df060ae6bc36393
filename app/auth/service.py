"""Organisations and API clients."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.models import ApiClient, Organisation
from app.auth.passwords import hash_secret
from app.auth.principal import ORGANISATION_KINDS, SCOPES
from app.http.problems import invalid

DEFAULT_KIND_BY_SCOPE = {
    "admin": "aanmeldpunt",
    "intakes:read": "aanmeldpunt",
    "intakes:write": "aanmeldpunt",
    "handoffs:write": "programme",
}


async def get_or_create_organisation(
    db: AsyncSession, code: str, *, name: str | None = None, kind: str | None = None, region: str
) -> Organisation:
    org = await db.scalar(select(Organisation).where(Organisation.code == code))
    if org is not None:
        return org
    if kind is not None and kind not in ORGANISATION_KINDS:
        raise invalid([{"name": "kind", "reason": f"One of {', '.join(ORGANISATION_KINDS)}."}])
    org = Organisation(
        id=uuid.uuid4(),
        code=code,
        name=name or code,
        kind=kind or "referrer",
        region=region,
        created_at=clock.now(),
    )
    db.add(org)
    await db.flush()
    return org


async def create_client(
    db: AsyncSession, organisation: Organisation, name: str, scopes: list[str]
) -> tuple[ApiClient, str]:
    """Returns the client and its secret (the only time the secret exists in clear)."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise invalid([{"name": "scopes", "reason": f"Known scopes: {', '.join(SCOPES)}."}])
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        id=uuid.uuid4(),
        client_id="amp_" + secrets.token_hex(10),
        secret_hash=hash_secret(secret),
        organisation_id=organisation.id,
        name=name,
        scopes=sorted(set(scopes)),
        active=True,
        created_at=clock.now(),
    )
    db.add(client)
    await db.flush()
    return client, secret


async def find_organisation(db: AsyncSession, code: str) -> Organisation:
    org = await db.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise invalid([{"name": "organisation", "reason": "No organisation with this code."}])
    return org
