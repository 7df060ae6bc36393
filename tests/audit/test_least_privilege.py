"""Issue 13 point 3, least privilege: the service's login role may append to and read the
access log and the admin trail, and nothing else on them — UPDATE, DELETE, TRUNCATE, ALTER
TABLE … DISABLE TRIGGER and DROP TRIGGER all fail — while the whole service works as it."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from app.audit.service import verify_chain
from app.db import get_engine
from app.main import create_app
from app.roles import grant_service_role, user_of, with_user
from tests.conftest import _admin
from tests.support.helpers import auth_for, referral

ROLE = "amp_service_test"


async def _ensure_role(pg_server: str) -> None:
    conn = await _admin(pg_server)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE):
            try:
                await conn.execute(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER")
            except asyncpg.PostgresError:  # another test run made it at the same moment
                assert await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE)
    finally:
        await conn.close()


@pytest.fixture
async def service_url(pg_server: str, database_url: str) -> str:
    await _ensure_role(pg_server)
    await grant_service_role(database_url, ROLE)
    return with_user(database_url, ROLE, None)


REFUSED = [
    "UPDATE access_log SET basis = 'x'",
    "DELETE FROM access_log",
    "TRUNCATE access_log",
    "ALTER TABLE access_log DISABLE TRIGGER USER",
    "ALTER TABLE access_log DISABLE TRIGGER access_log_no_update_delete",
    "DROP TRIGGER access_log_no_update_delete ON access_log",
    "ALTER TABLE access_log ADD COLUMN x int",
    "UPDATE admin_trail SET target = 'x'",
    "DELETE FROM admin_trail",
    "TRUNCATE admin_trail",
    "ALTER TABLE admin_trail DISABLE TRIGGER USER",
    "UPDATE alembic_version SET version_num = 'x'",
    "CREATE TABLE intruder (x int)",
]


@pytest.mark.parametrize("statement", REFUSED)
async def test_the_service_role_cannot_change_the_log(service_url: str, statement: str) -> None:
    conn = await asyncpg.connect(service_url)
    try:
        assert user_of(service_url) == ROLE and not await conn.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
        # what it must be able to do
        await conn.fetchval("SELECT count(*) FROM access_log")
        await conn.execute(
            "INSERT INTO admin_trail (at, region, client_id, organisation, action, target, changes) "
            "VALUES (now(), 'rotterdam', 'c', 'o', 'client.created', $1, '[]')",
            str(uuid.uuid4()),
        )
    finally:
        await conn.close()


async def test_the_whole_service_runs_as_the_service_role(settings, service_url: str, database_url: str) -> None:
    """Migrations as the owner, the service as the least-privileged role: a referral, reads,
    the worklist and an admin change work, and every access-log row verifies."""
    split = settings.model_copy(update={"database_url": service_url, "migration_database_url": database_url})
    app = create_app(split)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            referrer, staff, admin = [await auth_for(client, r) for r in ("referrer", "staff", "admin")]
            created = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
            assert created.status_code == 201, created.text
            assert (await client.get(f"/api/v1/intakes/{created.json()['id']}", headers=staff)).status_code == 200
            assert (await client.get("/api/v1/intakes", headers=staff)).status_code == 200
            org = {"code": "praktijk-oost", "name": "Praktijk Oost", "kind": "referrer"}
            assert (await client.post("/api/v1/organisations", json=org, headers=admin)).status_code == 201
            async with get_engine().connect() as conn:
                assert await conn.scalar(text("SELECT current_user")) == ROLE
                result = await verify_chain(conn)
            assert result.broken_seq is None and result.checked == 3


async def test_production_refuses_a_service_role_that_is_a_superuser_or_owns_the_log(
    settings, service_url: str, database_url: str, pg_server: str, monkeypatch
) -> None:
    """Attacker review: with one DATABASE_URL the service ran as the tables' owner, which can
    disable the access log's guards. Production refuses that role; the split one starts."""
    from app.config import Environment
    from app.roles import service_role_problem

    assert await service_role_problem(service_url) is None
    assert "is a superuser" in (await service_role_problem(database_url) or "")  # the tests' login
    await _create_login(pg_server, "amp_owner_test")
    owner_conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await owner_conn.execute("ALTER TABLE access_log OWNER TO amp_owner_test")
    finally:
        await owner_conn.close()
    owner_url = with_user(database_url, "amp_owner_test", None)
    assert "owns the tables" in (await service_role_problem(owner_url) or "")

    # Production's keys: this checkout's development key files (restored for the other tests).
    from pathlib import Path

    from app import crypto
    from app.audit import keys as audit_keys

    monkeypatch.setattr(audit_keys, "_keys", audit_keys._keys)
    monkeypatch.setattr(crypto, "_box", crypto._box)
    audit_keys.load(settings), crypto.load_keys(settings)
    data = Path(settings.data_dir).resolve()
    production = settings.model_copy(
        update={
            "environment": Environment.production,
            "audit_key_file": data / "audit.key",
            "encryption_key_file": data / "encryption.key",
            "webhook_allow_loopback_http": False,
        }
    )
    app = create_app(production)
    with pytest.raises(RuntimeError, match=r"ENVIRONMENT=production: the service connects as .* is a superuser"):
        async with app.router.lifespan_context(app):
            pass


async def _create_login(pg_server: str, role: str) -> None:
    conn = await _admin(pg_server)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            try:
                await conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER")
            except asyncpg.PostgresError:  # another test run made it at the same moment
                pass
    finally:
        await conn.close()
