"""Hostile input: each gets a clear 4xx problem+json, nothing is interpreted, nothing crashes."""

from __future__ import annotations

import pytest

from tests.support.helpers import auth_for, make_client, referral, seed_programmes

PROBLEM = "application/problem+json"


@pytest.fixture
async def referrer(client) -> dict[str, str]:
    await seed_programmes()
    return await auth_for(client, "referrer")


def is_problem(r, status: int) -> bool:
    return r.status_code == status and r.headers["content-type"] == PROBLEM and r.json()["status"] == status


@pytest.mark.parametrize("depth", [100, 5_000, 100_000])
async def test_deeply_nested_json(client, referrer, depth) -> None:
    body = ("[" * depth + "]" * depth).encode()
    r = await client.post("/api/v1/referrals", content=body, headers={**referrer, "content-type": "application/json"})
    assert is_problem(r, 400) or is_problem(r, 413)


async def test_invalid_utf8(client, referrer) -> None:
    r = await client.post(
        "/api/v1/referrals", content=b'{"client": "\xff\xfe"}', headers={**referrer, "content-type": "application/json"}
    )
    assert is_problem(r, 400)


async def test_nul_in_text_is_refused_by_name(client, referrer) -> None:
    r = await client.post("/api/v1/referrals", json=referral(narrative="a\x00b"), headers=referrer)
    assert is_problem(r, 400) and r.json()["invalidParams"][0]["name"] == "narrative"
    staff = await auth_for(client, "staff")
    r = await client.get("/api/v1/intakes", params={"programme": "a\x00b"}, headers=staff)
    assert is_problem(r, 400)


PAYLOADS = [
    "'; DROP TABLE intakes; --",
    "<script>alert(1)</script>",
    "{{7*7}} ${7*7} %(x)s",
    "../../etc/passwd",
    "Robert'); DELETE FROM access_log;--",
]


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_injection_payloads_are_stored_as_text(client, referrer, payload) -> None:
    body = referral(narrative=payload, **{"client.givenName": payload, "referrer.professionalName": payload})
    r = await client.post("/api/v1/referrals", json=body, headers=referrer)
    assert r.status_code == 201, r.text
    staff = await auth_for(client, "staff")
    intake = (await client.get(f"/api/v1/intakes/{r.json()['id']}", headers=staff)).json()
    assert intake["narrative"] == payload and intake["client"]["givenName"] == payload
    assert intake["referrer"]["professionalName"] == payload
    assert (await client.get("/api/v1/intakes", headers=staff)).status_code == 200  # the table is still there


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/intakes/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/intakes/../../etc/passwd",
        "/api/v1/intakes/1%20OR%201=1",
        "/api/v1/intakes/00000000-0000-0000-0000-000000000000%00",
        "/api/v1/referrals/%2e%2e",
    ],
)
async def test_path_traversal_and_junk_ids(client, referrer, path) -> None:
    caller = referrer if "/referrals/" in path else await auth_for(client, "staff")
    r = await client.get(path, headers=caller)
    assert r.status_code in (400, 404) and r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("limit", ["0", "201", "99999999999999999999", "-1", "ten"])
async def test_huge_or_bad_limit(client, limit) -> None:
    staff = await auth_for(client, "staff")
    r = await client.get("/api/v1/intakes", params={"limit": limit}, headers=staff)
    assert is_problem(r, 400) and r.json()["invalidParams"][0]["name"] == "limit"


@pytest.mark.parametrize("cursor", ["", "!!!", "eyJ4IjoxfQ", "W1tbW1tbW1tbXV1dXV1dXV1d", "W251bGwsImJvZ3VzIl0"])
async def test_malformed_cursors(client, cursor) -> None:
    staff = await auth_for(client, "staff")
    r = await client.get("/api/v1/intakes", params={"cursor": cursor}, headers=staff)
    assert r.status_code in (200, 400) and (r.status_code == 200 or is_problem(r, 400))


async def test_token_endpoint_is_rate_limited(app, client) -> None:
    app.state.settings.token_rate = 3
    try:
        cid, _ = await make_client("verloskundigen-zuid", "referrer", ["referrals:write"])
        answers = [
            await client.post(
                "/oauth/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": "wrong"}
            )
            for _ in range(5)
        ]
        assert [a.status_code for a in answers][:3] == [401, 401, 401]
        assert answers[-1].status_code == 429 and int(answers[-1].headers["retry-after"]) > 0
        assert answers[-1].headers["content-type"] == PROBLEM
    finally:
        app.state.settings.token_rate = 1000


async def test_cors_preflight_is_not_open(client) -> None:
    r = await client.options(
        "/api/v1/referrals",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers


async def test_cors_allows_only_configured_origins(settings) -> None:
    import httpx

    from app.main import create_app

    app = create_app(settings.model_copy(update={"cors_allow_origins": ["https://aanmelden.rotterdam.nl"]}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
            ok = await c.options(
                "/api/v1/self-registrations", headers={"Origin": "https://aanmelden.rotterdam.nl", **ask}
            )
            assert ok.status_code == 200
            assert ok.headers["access-control-allow-origin"] == "https://aanmelden.rotterdam.nl"
            evil = await c.options("/api/v1/self-registrations", headers={"Origin": "https://evil.example", **ask})
            assert "access-control-allow-origin" not in evil.headers
