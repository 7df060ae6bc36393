"""The social map of a region: programmes in the database, seeded from the region file."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.service import get_or_create_organisation
from app.regions.config import RegionConfig
from app.routing.models import Programme
from app.routing.router import ProgrammeInfo


async def catalogue_for(db: AsyncSession, region: str) -> list[ProgrammeInfo]:
    rows = await db.execute(
        select(Programme.code, Programme.name, Programme.accepting_clients).where(Programme.region == region)
    )
    return [ProgrammeInfo(code, name, accepting) for code, name, accepting in rows.all()]


async def seed(db: AsyncSession, region: RegionConfig) -> list[Programme]:
    """Create the region's programmes and their organisations where missing (idempotent)."""
    out = []
    for seed_row in region.programmes:
        await get_or_create_organisation(
            db,
            seed_row.organisation,
            name=seed_row.contact,
            kind=seed_row.organisation_kind,
            region=region.region,
        )
        existing = await db.scalar(
            select(Programme).where(Programme.region == region.region, Programme.code == seed_row.code)
        )
        if existing is None:
            existing = Programme(
                id=uuid.uuid4(),
                region=region.region,
                code=seed_row.code,
                name=seed_row.name,
                organisation_code=seed_row.organisation,
                description=seed_row.description,
                eligibility=seed_row.eligibility,
                contact=seed_row.contact,
                accepting_clients=True,
                updated_at=clock.now(),
            )
            db.add(existing)
        out.append(existing)
    await db.flush()
    return out
