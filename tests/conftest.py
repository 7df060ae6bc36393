"""Test harness: a real PostgreSQL (127.0.0.1:5432 when it answers, else the embedded one),
one migrated template database per run, and a fresh database cloned from it per test."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app import clock
from app.config import Settings
from app.main import create_app
from app.migrate import upgrade

TEMPLATE = f"amp_template_{os.getpid()}"


def _server_url() -> str:
    if os.environ.get("TEST_DATABASE_SERVER"):
        return os.environ["TEST_DATABASE_SERVER"]
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return "postgresql://postgres@127.0.0.1:5432"
    except OSError:
        from app.embedded import start_embedded

        url, server = start_embedded(Path(".data/test"))
        globals()["_embedded"] = server
        return url.rsplit("/", 1)[0] if "?" not in url else url


def db_url(server: str, name: str) -> str:
    if "?" in server:  # unix-socket URL of the embedded server: postgresql://u:@/db?host=…
        base, query = server.split("?", 1)
        return base.rsplit("/", 1)[0] + f"/{name}?{query}"
    return f"{server}/{name}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    return _server_url()


async def _admin(server: str) -> asyncpg.Connection:
    return await asyncpg.connect(db_url(server, "postgres").replace("postgresql+asyncpg", "postgresql"))


@pytest.fixture(scope="session")
async def template_db(pg_server: str) -> AsyncIterator[str]:
    conn = await _admin(pg_server)
    await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
    await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    await conn.close()
    await asyncio.to_thread(upgrade, db_url(pg_server, TEMPLATE))
    yield TEMPLATE
    conn = await _admin(pg_server)
    await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    await conn.close()


@pytest.fixture
async def database_url(pg_server: str, template_db: str) -> AsyncIterator[str]:
    name = f"amp_test_{uuid.uuid4().hex[:12]}"
    conn = await _admin(pg_server)
    await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    await conn.close()
    yield db_url(pg_server, name)
    conn = await _admin(pg_server)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        run_workers=False,
        webhook_allow_loopback_http=True,
        self_registration_rate=1000,
        token_rate=1000,
        public_base_url="http://testserver",
        research_pseudonym_key="test-research-pseudonym-key",
    )


@pytest.fixture(autouse=True)
def _reset_clock() -> None:
    clock.reset()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def db(app: Any) -> AsyncIterator[Any]:
    from app.db import session_factory

    async with session_factory()() as session:
        yield session
