"""Keys: the database never holds a private signing key or a webhook secret in clear; the
encryption key rotates (`rotate-encryption-key`); a running server notices `rotate-keys`
within KEY_REFRESH_SECONDS, signs with the new key, and refuses the old one from its
`retire_at` on (also a token it had already verified and cached)."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
from typing import Any

import asyncpg
import httpx
from alembic import command
from cryptography.fernet import Fernet, MultiFernet

from app import crypto
from app.auth.tokens import generate_key
from app.migrate import alembic_config
from tests.support.helpers import auth_for
from tests.support.live import LiveServer


def kid_of(token: str) -> str:
    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


async def _raw(database_url: str, query: str) -> list[Any]:
    conn = await asyncpg.connect(database_url)
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


async def test_the_database_holds_no_clear_key_or_secret(client: httpx.AsyncClient, database_url: str) -> None:
    admin = await auth_for(client, "admin")
    created = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": "http://127.0.0.1:9/hook",
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    rotated = await client.post(f"/api/v1/webhook-subscriptions/{created.json()['id']}/rotate-secret", headers=admin)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]

    keys = await _raw(database_url, "SELECT private_pem FROM signing_keys")
    assert keys
    for (stored,) in keys:
        assert "PRIVATE KEY" not in stored and "MII" not in stored
        assert "PRIVATE KEY" in crypto.box().decrypt(stored.encode()).decode()  # it is there, encrypted
    subs = await _raw(database_url, "SELECT secret, previous_secret FROM webhook_subscriptions")
    (current, previous) = subs[0]
    for stored, clear in ((current, new_secret), (previous, secret)):
        assert clear not in stored and clear.removeprefix("whsec_") not in stored
        assert crypto.box().decrypt(stored.encode()).decode() == clear
    # the whole table dump holds neither secret
    dump = json.dumps([dict(r) for r in await _raw(database_url, "SELECT * FROM webhook_subscriptions")], default=str)
    assert secret.removeprefix("whsec_") not in dump and new_secret.removeprefix("whsec_") not in dump


async def test_the_migration_encrypts_existing_rows(pg_server: str, template_db: str) -> None:
    from tests.conftest import _admin, db_url

    name = f"amp_t1_migrate_{int(time.time() * 1000) % 10**9}"
    conn = await _admin(pg_server)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = db_url(pg_server, name)
    try:
        await asyncio.to_thread(
            command.upgrade, alembic_config(url), "0002"
        )  # the revision before 0003_encrypt_secrets
        key = generate_key()
        conn = await asyncpg.connect(url)
        await conn.execute(
            "INSERT INTO signing_keys (kid, algorithm, private_pem, public_jwk) VALUES ($1, 'ES256', $2, '{}')",
            key.kid,
            key.private_pem,
        )
        org = await conn.fetchval(
            "INSERT INTO organisations (id, code, name, kind, region) "
            "VALUES (gen_random_uuid(), 'o-1', 'O', 'aanmeldpunt', 'rotterdam') RETURNING id"
        )
        await conn.execute(
            "INSERT INTO webhook_subscriptions (id, organisation_id, url, event_types, secret, enabled, created_at,"
            " updated_at) VALUES (gen_random_uuid(), $1, 'https://x.example/h', '{}', 'whsec_clearclear', true,"
            " now(), now())",
            org,
        )
        await conn.close()
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        conn = await asyncpg.connect(url)
        pem = await conn.fetchval("SELECT private_pem FROM signing_keys")
        secret = await conn.fetchval("SELECT secret FROM webhook_subscriptions")
        await conn.close()
        assert "PRIVATE KEY" not in pem and "clearclear" not in secret
        assert crypto.box_or_load().decrypt(pem.encode()).decode() == key.private_pem
        assert crypto.box_or_load().decrypt(secret.encode()).decode() == "whsec_clearclear"
    finally:
        conn = await _admin(pg_server)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def _cli(server: LiveServer, *args: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**server.environment(), **env},
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout.decode()


def _token(server: LiveServer, credentials: dict[str, str]) -> str:
    r = httpx.post(
        f"{server.base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["clientId"], credentials["clientSecret"]),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _status(server: LiveServer, token: str) -> int:
    return httpx.get(
        f"{server.base}/api/v1/intakes", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).status_code


def _jwks_kids(server: LiveServer) -> set[str]:
    return {k["kid"] for k in httpx.get(f"{server.base}/.well-known/jwks.json", timeout=10).json()["keys"]}


def test_a_running_server_follows_rotate_keys_and_retires_the_old_key(database_url: str) -> None:
    server = LiveServer(database_url).start()  # KEY_REFRESH_SECONDS at its default (5)
    try:
        staff = json.loads(_cli(server, "demo"))["staff"]
        old = _token(server, staff)
        old_kid = kid_of(old)
        assert _status(server, old) == 200  # verified, and now in the verified-token cache

        retire_after = 8
        out = _cli(server, "rotate-keys", KEY_RETIRE_AFTER_SECONDS=str(retire_after))
        rotated_at = time.monotonic()
        new_kid = out.strip().rsplit(" ", 1)[-1]
        assert new_kid != old_kid

        time.sleep(5.5)  # KEY_REFRESH_SECONDS: the documented bound
        new = _token(server, staff)
        assert kid_of(new) == new_kid  # signs with the new key
        assert {old_kid, new_kid} <= _jwks_kids(server)
        assert _status(server, old) == 200  # the old key still verifies until it retires
        assert _status(server, new) == 200

        time.sleep(max(0.0, retire_after + 0.5 - (time.monotonic() - rotated_at)))
        refused = httpx.get(f"{server.base}/api/v1/intakes", headers={"Authorization": f"Bearer {old}"}, timeout=10)
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        assert old_kid not in _jwks_kids(server)
        assert _status(server, new) == 200
    finally:
        server.stop()


def test_rotate_encryption_key_with_a_running_server(database_url: str) -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    server = LiveServer(database_url, env={"ENCRYPTION_KEYS": first}).start()
    try:
        staff = json.loads(_cli(server, "demo"))["staff"]
        before = _token(server, staff)
    finally:
        server.stop()
    # every process gets "new,old"; the running one keeps working while the rows are re-encrypted
    server = LiveServer(database_url, env={"ENCRYPTION_KEYS": f"{second},{first}"}).start()
    try:
        out = _cli(server, "rotate-encryption-key")
        assert "re-encrypted 1 stored secrets" in out
        assert _status(server, before) == 200
        assert _status(server, _token(server, staff)) == 200
    finally:
        server.stop()
    stored = asyncio.run(_raw(database_url, "SELECT private_pem FROM signing_keys"))
    only_new = MultiFernet([Fernet(second.encode())])
    assert all("PRIVATE KEY" in only_new.decrypt(pem.encode()).decode() for (pem,) in stored)
    # then the old key is dropped: a server with only the new key signs and verifies
    server = LiveServer(database_url, env={"ENCRYPTION_KEYS": second}).start()
    try:
        assert _status(server, before) == 200
        assert _status(server, _token(server, staff)) == 200
    finally:
        server.stop()
    # and one with only the old key cannot open the secrets: it refuses to start
    stale = LiveServer(database_url, env={"ENCRYPTION_KEYS": first})
    try:
        stale.start(timeout=30)
        started = True
    except (RuntimeError, TimeoutError):
        started = False
    finally:
        stale.kill()
    assert not started
