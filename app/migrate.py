"""Apply Alembic migrations programmatically (at start and by `aanmeldpunt migrate`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from app.roles import grant_service_role, user_of

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def prepare(settings: Any) -> None:
    """Migrate as the owner (MIGRATION_DATABASE_URL, else DATABASE_URL); when the service
    connects as another user, grant that role exactly what it needs (app.roles)."""
    service = settings.database_url or ""
    owner = settings.migration_database_url or service
    upgrade(owner)
    if user_of(owner) != user_of(service):
        asyncio.run(grant_service_role(owner, user_of(service)))


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
