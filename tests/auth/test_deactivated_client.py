"""A deactivated client's tokens stop working from the next request on (in this process at
once; in other replicas within CLIENT_STATUS_CACHE_SECONDS)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from tests.support.helpers import make_client, token


async def test_a_deactivated_admin_token_stops_working_at_once(client: httpx.AsyncClient) -> None:
    first_id, first_secret = await make_client("aanmeldpunt-rotterdam", "aanmeldpunt", ["admin"])
    second_id, second_secret = await make_client("aanmeldpunt-rotterdam", "aanmeldpunt", ["admin"])
    first = {"Authorization": f"Bearer {await token(client, first_id, first_secret)}"}
    second = {"Authorization": f"Bearer {await token(client, second_id, second_secret)}"}
    body = {"organisation": "aanmeldpunt-rotterdam", "name": "x", "scopes": ["referrals:read"]}
    assert (await client.post("/api/v1/clients", json=body, headers=first)).status_code == 201

    assert (await client.delete(f"/api/v1/clients/{first_id}", headers=second)).status_code == 204
    for _ in range(3):  # and it keeps not working
        refused = await client.post("/api/v1/clients", json=body, headers=first)
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert (await client.get("/api/v1/clients", headers=first)).status_code == 401
    # nor can it get a new token
    r = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": first_id, "client_secret": first_secret},
    )
    assert r.status_code == 401
    # the other admin is unaffected
    assert (await client.get("/api/v1/clients", headers=second)).status_code == 200


async def test_a_client_deactivated_elsewhere_is_refused_within_the_bound(
    app: Any, client: httpx.AsyncClient, database_url: str
) -> None:
    """Another replica (here: the database changed directly) deactivates the client: this
    process refuses its token once the cached state is older than the documented bound."""
    bound = app.state.settings.client_status_cache_seconds
    assert 0 < bound <= 5
    cid, secret = await make_client("aanmeldpunt-rotterdam", "aanmeldpunt", ["admin"])
    auth = {"Authorization": f"Bearer {await token(client, cid, secret)}"}
    assert (await client.get("/api/v1/clients", headers=auth)).status_code == 200
    conn = await asyncpg.connect(database_url)
    await conn.execute("UPDATE api_clients SET active = false WHERE client_id = $1", cid)
    await conn.close()
    await asyncio.sleep(bound + 0.2)
    assert (await client.get("/api/v1/clients", headers=auth)).status_code == 401
