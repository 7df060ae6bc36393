"""Engine, session factory and the transaction boundary (one transaction per request)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends
from sqlalchemy import DateTime, MetaData, Table, event, inspect
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.exc import InvalidatePoolError
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


async def driver(db: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside the session's transaction.

    For the few statements of a hot path (receiving an intake, the worklist, the audit row,
    the outbox, idempotency) written as plain SQL: SQLAlchemy's statement construction,
    compilation-cache lookup and result processing cost several times the driver's own work.
    Everything still happens in the request's one transaction: the adapter starts it lazily
    on its first statement, so it is started here when no statement has run yet (SQLAlchemy's
    own asyncpg adapter code; `tests/db/test_db_driver.py` checks a rollback undoes both).
    The connection has SQLAlchemy's codecs: `jsonb` goes in as JSON text, comes out decoded.
    Pending ORM changes are flushed first, as SQLAlchemy's autoflush would before a statement."""
    if db.new or db.dirty or db.deleted:
        await db.flush()
    transaction = db.sync_session.get_transaction()
    cached = db.info.get(_DRIVER)
    if transaction is not None and cached is not None and cached[0] is transaction:
        pg: asyncpg.Connection = cached[1]
        return pg
    connection = await db.connection()
    fairy = await connection.get_raw_connection()
    adapted: Any = fairy.dbapi_connection
    if adapted._transaction is None and adapted.isolation_level != "autocommit":
        async with adapted._execute_mutex:
            if adapted._transaction is None:
                await adapted._start_transaction()
    pg = fairy.driver_connection
    db.info[_DRIVER] = (db.sync_session.get_transaction(), pg)  # until this transaction ends
    return pg


_DRIVER = "app.db.driver"


@dataclass(frozen=True)
class _Insert:
    """How one table's rows with one set of columns are inserted on the driver."""

    sql: str
    columns: tuple[str, ...]
    encoders: tuple[Any, ...]  # per column: SQLAlchemy's bind processor, or None


_INSERTS: dict[tuple[str, tuple[str, ...]], _Insert] = {}
_DEFAULTS: dict[str, tuple[tuple[str, Any], ...]] = {}


def _plan(table: Table, columns: tuple[str, ...], dialect: Any) -> _Insert:
    plan = _INSERTS.get((table.name, columns))
    if plan is None:
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({values})'  # noqa: S608 - names from our own models
        # SQLAlchemy's own bind processors: JSON dumped as its JSON type does (None is JSON
        # null unless the type says otherwise), type decorators (e.g. encryption) applied.
        encoders = tuple(table.columns[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns)
        plan = _INSERTS[(table.name, columns)] = _Insert(sql, columns, encoders)
    return plan


def _defaults(table: Table) -> tuple[tuple[str, Any], ...]:
    """The model's Python-side column defaults (what a Core INSERT applies when a value is missing)."""
    found = _DEFAULTS.get(table.name)
    if found is None:
        found = _DEFAULTS[table.name] = tuple(
            (c.key, c.default) for c in table.columns if c.default is not None and not c.default.is_sequence
        )
    return found


def _row(obj: Base, table: Table) -> dict[str, Any]:
    values = column_values(obj)
    for key, default in _defaults(table):
        if key not in values:
            values[key] = default.arg(None) if default.is_callable else default.arg
    return values


async def insert_new(db: AsyncSession, *groups: Sequence[Base]) -> None:
    """Insert freshly built ORM objects with one statement per group (parents first), without
    the unit of work: on the hot path of receiving an intake the ORM's bookkeeping costs more
    than the statements. Column defaults of the model that were not set are applied. The
    objects stay transient: later changes are not saved."""
    pg = await driver(db)
    for group in groups:
        if not group:
            continue
        table: Table = group[0].__table__  # type: ignore[assignment]
        rows = [_row(o, table) for o in group]
        plan = _plan(table, tuple(rows[0]), db.get_bind().dialect)
        args = [
            tuple(encode(row[c]) if encode else row[c] for c, encode in zip(plan.columns, plan.encoders, strict=True))
            for row in rows
        ]
        if len(args) == 1:
            await pg.execute(plan.sql, *args[0])
        else:
            await pg.executemany(plan.sql, args)


_engine: AsyncEngine | None = None
_sessions: async_sessionmaker[AsyncSession] | None = None


def make_engine(database_url: str, settings: Settings, **kwargs: Any) -> AsyncEngine:
    engine = create_async_engine(
        async_url(database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,  # see _alive_on_checkout
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
    event.listen(engine.sync_engine.pool, "checkout", _alive_on_checkout)
    return engine


def _alive_on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the database closed (restart, failover, terminated backend) is
    replaced at checkout, and so is every connection pooled before it. asyncpg notices a
    closed socket by itself, so this costs no round trip; SQLAlchemy's pre-ping costs three
    (BEGIN, a ping, ROLLBACK) on every request."""
    del dbapi_connection, record
    if proxy.driver_connection.is_closed():
        raise InvalidatePoolError("the database closed this pooled connection")


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
