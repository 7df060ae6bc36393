"""A region's policy as versioned data: version 1 is the region file's `policy` block (seeded
when the region has no version yet); every later version is stored by an administrator with
the moment it takes effect, and each change goes to the admin trail with its diff."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit.models import AdminAction
from app.audit.service import record_admin_change
from app.auth.principal import Principal
from app.db import session_factory
from app.regions.config import RegionConfig, RegionPolicy
from app.regions.diff import changes
from app.regions.models import RegionPolicyVersion
from app.regions.tenancy import Tenancy

# Version 1 (the file) is in force from the beginning: intakes received before any change
# were computed with it.
FILE_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
REFRESH_SECONDS = 5.0


def policy_json(policy: RegionPolicy) -> dict[str, Any]:
    document: dict[str, Any] = policy.model_dump(mode="json", by_alias=True)
    return document


async def seed(db: AsyncSession, tenancy: Tenancy) -> None:
    """Store each configured region's file policy as version 1 when the region has none."""
    for code in tenancy.codes:
        # Several processes may start at once: the first one's version 1 stands.
        await db.execute(
            pg_insert(RegionPolicyVersion)
            .values(
                id=uuid.uuid4(),
                region=code,
                version=1,
                effective_from=FILE_EFFECTIVE_FROM,
                created_at=clock.now(),
                created_by=f"region file app/regions/{code}.yaml",
                policy=policy_json(tenancy.file(code).policy),
            )
            .on_conflict_do_nothing(constraint="uq_region_policies_region_version")
        )
    await db.flush()


async def load(db: AsyncSession, tenancy: Tenancy) -> None:
    """Read every stored version into the tenancy (the file's identity + each version's policy)."""
    rows = (
        await db.scalars(
            select(RegionPolicyVersion)
            .where(RegionPolicyVersion.region.in_(tenancy.codes))
            .order_by(RegionPolicyVersion.region, RegionPolicyVersion.version)
        )
    ).all()
    grouped: dict[str, list[tuple[datetime, RegionConfig]]] = {}
    for row in rows:
        config = tenancy.file(row.region).with_policy(RegionPolicy.model_validate(row.policy), row.version)
        grouped.setdefault(row.region, []).append((row.effective_from, config))
    for code, versions in grouped.items():
        tenancy.set_versions(code, versions)
    tenancy.loaded_at = time.monotonic()


async def refresh_if_stale(db: AsyncSession, tenancy: Tenancy) -> None:
    """Other processes' new versions become visible within REFRESH_SECONDS."""
    if time.monotonic() - tenancy.loaded_at >= REFRESH_SECONDS:
        await load(db, tenancy)


async def fresh_versions(request: Request) -> None:
    """Route dependency: a new version stored by another process is seen within seconds."""
    regions: Tenancy = request.app.state.tenancy
    if time.monotonic() - regions.loaded_at >= REFRESH_SECONDS:
        async with session_factory()() as db:
            await load(db, regions)


async def versions(db: AsyncSession, code: str) -> list[RegionPolicyVersion]:
    rows = await db.scalars(
        select(RegionPolicyVersion)
        .where(RegionPolicyVersion.region == code)
        .order_by(RegionPolicyVersion.version.desc())
    )
    return list(rows.all())


async def store(
    db: AsyncSession,
    principal: Principal,
    tenancy: Tenancy,
    code: str,
    policy: RegionPolicy,
    effective_from: datetime,
) -> RegionPolicyVersion:
    """A new version, its admin-trail row with the diff against the newest version: one
    transaction. Versions are numbered per region under a row lock of the newest one."""
    newest = await db.scalar(
        select(RegionPolicyVersion)
        .where(RegionPolicyVersion.region == code)
        .order_by(RegionPolicyVersion.version.desc())
        .limit(1)
        .with_for_update()
    )
    document = policy_json(policy)
    now = clock.now()
    row = RegionPolicyVersion(
        region=code,
        version=(newest.version if newest else 0) + 1,
        effective_from=effective_from,
        created_at=now,
        created_by=principal.user or principal.client_id,
        policy=document,
    )
    db.add(row)
    await record_admin_change(
        db,
        principal,
        AdminAction.POLICY_VERSION_STORED,
        f"region {code} policy version {row.version} effective {effective_from.isoformat()}",
        changes(newest.policy if newest else {}, document),
        region=code,
        at=now,
    )
    await db.flush()
    tenancy.loaded_at = float("-inf")  # the next request reads the versions again, after this commit
    return row
