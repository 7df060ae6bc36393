"""Least privilege in the database: migrations run as the owner of the tables; the service
runs as a separate login role that may read and write what it works with, but may only
INSERT and SELECT the access log and the admin trail — no UPDATE, DELETE or TRUNCATE — and,
not owning any table, cannot ALTER one, disable its triggers or drop them.

Settings: `MIGRATION_DATABASE_URL` (the owner) and `DATABASE_URL` (the service role). When
they name different users, every migration run ends by granting the service role exactly
this (`grant_service_role`, idempotent, also for tables a later migration adds). Without
`MIGRATION_DATABASE_URL` both are the same role (the previous behaviour; fine for tests
and benchmarks on a throwaway database, not for production). The embedded PostgreSQL of
`make run` always runs split: its superuser migrates, and the service connects as
`aanmeldpunt_app`, a login role created with a password kept in `DATA_DIR`."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from app.crypto import write_once

SERVICE_ROLE = "aanmeldpunt_app"
# Tables the service may only append to and read.
APPEND_ONLY = ("access_log", "admin_trail")


def user_of(url: str) -> str:
    return unquote(urlsplit(url).username or "")


def with_user(url: str, user: str, password: str | None) -> str:
    """`url` with its user (and password) replaced; host, database and options kept."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit((parts.scheme, f"{credentials}@{host}", parts.path, parts.query, parts.fragment))


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def grant_service_role(owner_url: str, role: str) -> None:
    """Give `role` what the service needs and nothing more (run as the owner, after migrating)."""
    conn = await asyncpg.connect(_dsn(owner_url))
    try:
        found = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", role)
        if found is None:
            raise RuntimeError(f"the service role {role!r} does not exist: create it (LOGIN) first")
        if found["rolsuper"]:
            raise RuntimeError(f"the service role {role!r} is a superuser: it could rewrite the access log")
        who = await conn.fetchval("SELECT quote_ident($1)", role)
        async with conn.transaction():
            await conn.execute(f"GRANT USAGE ON SCHEMA public TO {who}")
            await conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {who}")
            await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}")
            await conn.execute(
                f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {', '.join(APPEND_ONLY)} FROM {who}"
            )
            await conn.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {who}")
    finally:
        await conn.close()


OWNER_PROBLEM = (
    "the service connects as {role}, which {what}: it could switch off the access log's guards. "
    "Migrate as the owner (MIGRATION_DATABASE_URL) and run the service as a role that owns "
    "nothing (SECURITY.md, 'Roles')"
)


async def service_role_problem(database_url: str) -> str | None:
    """Why the role the service connects as must not run it in production: a superuser, or the
    owner of the access log (an owner can disable its triggers and rewrite it). None if fine."""
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        row = await conn.fetchrow(
            "SELECT current_user AS role, r.rolsuper AS superuser, "
            "EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'access_log' "
            "        AND tableowner = current_user) AS owner "
            "FROM pg_roles r WHERE r.rolname = current_user"
        )
    finally:
        await conn.close()
    if row["superuser"]:
        return OWNER_PROBLEM.format(role=row["role"], what="is a superuser")
    if row["owner"]:
        return OWNER_PROBLEM.format(role=row["role"], what="owns the tables")
    return None


def _password(data_dir: Path) -> str:
    """The embedded service role's password, generated once into DATA_DIR (0600)."""
    path = (data_dir / "service-role.password").resolve()
    write_once(path, lambda: secrets.token_urlsafe(32))
    return path.read_text().strip()


async def ensure_login_role(superuser_url: str, role: str, password: str) -> None:
    """Create the login role (or set its password) as the embedded server's superuser."""
    conn = await asyncpg.connect(_dsn(superuser_url))
    try:
        who = await conn.fetchval("SELECT quote_ident($1)", role)
        secret = await conn.fetchval("SELECT quote_literal($1)", password)
        if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            await conn.execute(f"ALTER ROLE {who} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {secret}")
        else:
            await conn.execute(f"CREATE ROLE {who} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {secret}")
    finally:
        await conn.close()


async def embedded_service_url(superuser_url: str, data_dir: Path) -> str:
    """The URL the service uses on the embedded server: its own login role."""
    password = _password(data_dir)
    await ensure_login_role(superuser_url, SERVICE_ROLE, password)
    return with_user(superuser_url, SERVICE_ROLE, password)
