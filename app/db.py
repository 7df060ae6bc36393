"""Engine, session factory and the transaction boundary (one transaction per request)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import DateTime, MetaData, Table, insert, inspect
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app import crypto
from app.config import Settings, async_url

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        uuid.UUID: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
    }


def column_values(obj: Base) -> dict[str, Any]:
    """The column values set on a new ORM object (what a Core INSERT needs)."""
    state = inspect(obj).dict
    table: Table = obj.__table__  # type: ignore[assignment]
    return {column.key: state[column.key] for column in table.columns if column.key in state}


async def insert_new(db: AsyncSession, *groups: Sequence[Base]) -> None:
    """Insert freshly built ORM objects with one cached Core INSERT per group (parents first),
    without the unit of work: on the hot path of receiving an intake the ORM's bookkeeping
    costs more than the statements. The objects stay transient: later changes are not saved."""
    for group in groups:
        if group:
            table: Table = group[0].__table__  # type: ignore[assignment]
            await db.execute(insert(table), [column_values(o) for o in group])


_engine: AsyncEngine | None = None
_sessions: async_sessionmaker[AsyncSession] | None = None


def make_engine(database_url: str, settings: Settings, **kwargs: Any) -> AsyncEngine:
    return create_async_engine(
        async_url(database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={
            "timeout": 5,
            "command_timeout": settings.db_statement_timeout_ms / 1000 + 1,
            "server_settings": {
                "application_name": "aanmeldpunt",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
            },
        },
        **kwargs,
    )


def init_engine(database_url: str, settings: Settings) -> AsyncEngine:
    """The engine, and the keys that open the encrypted columns (app.crypto)."""
    global _engine, _sessions
    crypto.configure(settings)
    _engine = make_engine(database_url, settings)
    _sessions = async_sessionmaker(_engine, expire_on_commit=False)
    return _engine


def get_engine() -> AsyncEngine:
    if _engine is None:
        raise RuntimeError("database engine not initialised")
    return _engine


def session_factory() -> async_sessionmaker[AsyncSession]:
    if _sessions is None:
        raise RuntimeError("database engine not initialised")
    return _sessions


async def dispose_engine() -> None:
    global _engine, _sessions
    if _engine is not None:
        await _engine.dispose()
    _engine, _sessions = None, None


class CommitFailed(Exception):
    """The transaction of a request could not be committed; nothing it did is stored
    (answered as 503 problem+json with Retry-After, never as a success)."""


async def get_db() -> AsyncIterator[AsyncSession]:
    """The transaction boundary: commit when the endpoint returned, roll back when it raised.

    Used only through `Db` below, whose dependency scope is "function": FastAPI closes it
    when the endpoint has returned and its response is built, *before* a byte of the
    response is sent (the default "request" scope would close it after the response went
    out, so a client could be told 201 about a row that is not yet, or never, committed).
    A failing COMMIT raises `CommitFailed`, answered 503; the response built so far is
    discarded. Services only flush.
    """
    async with session_factory()() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        try:
            await session.commit()
        except Exception as exc:
            with contextlib.suppress(Exception):
                await session.rollback()
            raise CommitFailed(type(exc).__name__) from exc


# The one way an endpoint gets its database session (and so its transaction).
Db = Annotated[AsyncSession, Depends(get_db, scope="function")]
