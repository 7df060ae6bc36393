"""Staff tokens from an external identity provider: its JWKS is fetched over real HTTP from
a server on a loopback port; tokens it signed are accepted, everything else refused."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk as jose_jwk
from jose import jwt as jose_jwt

from app.auth.external import ExternalGrant, ExternalMappingRule, NotMapped, grant
from app.config import Settings
from app.main import create_app
from tests.support.helpers import make_client, referral

ISSUER = "https://idp.example.test/realms/aanmeldpunt"
AUDIENCE = "aanmeldpunt-api"


def pem_pair() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


@pytest.fixture(scope="module")
def idp() -> Iterator[dict[str, Any]]:
    private, public = pem_pair()
    jwk = {**jose_jwk.construct(public, "ES256").to_dict(), "kid": "idp-1", "alg": "ES256", "use": "sig"}
    assert "d" not in jwk
    document = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document if self.path == "/jwks.json" else b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}/jwks.json", "private": private}
    server.shutdown()


def external_token(private: bytes, kid: str = "idp-1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "f3a1c2d4-user",
        "preferred_username": "intakewerker.jansen",
        "iat": now,
        "exp": now + 300,
        "scope": "intakes:read intakes:write",
        "groups": ["rotterdam-intake", "medewerkers"],
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return str(jose_jwt.encode(claims, private.decode(), algorithm="ES256", headers={"kid": kid}))


MAPPING = [
    {
        "issuer": ISSUER,
        "claim": "groups",
        "value": "rotterdam-intake",
        "organisation": "aanmeldpunt-rotterdam",
        "scopes": ["intakes:read", "intakes:write"],
    },
    {
        "issuer": ISSUER,
        "claim": "groups",
        "value": "zuid-verloskunde",
        "organisation": "verloskundigen-zuid",
        "scopes": ["referrals:write", "referrals:read"],
    },
    {"issuer": ISSUER, "claim": "department", "value": "ghost", "organisation": "no-such-org", "scopes": ["admin"]},
    {
        "issuer": "https://other-idp.example.test",
        "claim": "groups",
        "value": "beheer",
        "organisation": "aanmeldpunt-rotterdam",
        "scopes": ["admin"],
    },
]


@pytest.fixture
async def idp_client(settings, idp) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(
        update={
            "external_issuer": ISSUER,
            "external_audience": AUDIENCE,
            "external_jwks_url": idp["url"],
            "external_mapping": [ExternalMappingRule.model_validate(rule) for rule in MAPPING],
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        await make_client("aanmeldpunt-rotterdam", "aanmeldpunt", ["admin"])  # the organisations exist
        await make_client("verloskundigen-zuid", "referrer", ["referrals:read"])
        await make_client("huisartsen-noord", "referrer", ["referrals:read"])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def is_problem(r: httpx.Response, status: int) -> bool:
    return r.status_code == status and r.headers["content-type"] == "application/problem+json"


async def test_signatures_are_checked(idp_client, idp) -> None:
    async def status(raw: str) -> int:
        return (await idp_client.get("/api/v1/intakes", headers=bearer(raw))).status_code

    assert await status(external_token(idp["private"])) == 200
    other_private, _ = pem_pair()
    assert await status(external_token(other_private)) == 401  # right kid, wrong key
    assert await status(external_token(idp["private"], kid="idp-unknown")) == 401
    assert await status(external_token(idp["private"], aud="someone-else")) == 401
    assert await status(external_token(idp["private"], exp=int(time.time()) - 3600)) == 401


@pytest.mark.parametrize(
    "overrides",
    [
        {"groups": None, "org": "aanmeldpunt-rotterdam"},  # org claim alone grants nothing
        {"groups": ["medewerkers"]},  # no mapped group
        {"groups": ["beheer"], "scope": "admin"},  # mapped, but for another issuer
        {"groups": "rotterdam-intak"},  # near miss
        {"groups": ["rotterdam-intake", "zuid-verloskunde"]},  # two organisations: ambiguous
        {"groups": None, "department": "ghost", "scope": "admin"},  # mapped to an unknown organisation
        {"scope": "admin"},  # asks only for what the mapping does not allow
    ],
)
async def test_a_token_outside_the_mapping_is_403(idp_client, idp, overrides) -> None:
    r = await idp_client.get("/api/v1/intakes", headers=bearer(external_token(idp["private"], **overrides)))
    assert is_problem(r, 403), r.text


async def test_the_token_cannot_widen_its_scopes(idp_client, idp) -> None:
    wide = bearer(external_token(idp["private"], scope="admin intakes:read intakes:write referrals:write"))
    assert (await idp_client.get("/api/v1/intakes", headers=wide)).status_code == 200
    assert is_problem(await idp_client.get("/api/v1/clients", headers=wide), 403)  # admin is not mapped
    narrow = bearer(external_token(idp["private"], scope="intakes:read"))  # intersection: read only
    assert (await idp_client.get("/api/v1/intakes", headers=narrow)).status_code == 200
    write = await idp_client.post(
        "/api/v1/intakes/6f1c2a4e-0000-4000-8000-000000000000/contacts",
        json={"at": "2026-11-20T10:00:00+01:00", "channel": "phone", "reached": True},
        headers=narrow,
    )
    assert is_problem(write, 403)
    unscoped = bearer(external_token(idp["private"], scope=None))  # no scope claim: the mapping's
    assert (await idp_client.get("/api/v1/intakes", headers=unscoped)).status_code == 200


async def test_the_organisation_comes_from_the_mapping(idp_client, idp, database_url) -> None:
    """A token of a midwife mapped to verloskundigen-zuid that claims `org: huisartsen-noord`
    creates a referral of verloskundigen-zuid."""
    raw = external_token(
        idp["private"], groups=["zuid-verloskunde"], org="huisartsen-noord", scope="referrals:write referrals:read"
    )
    created = await idp_client.post("/api/v1/referrals", json=referral(), headers=bearer(raw))
    assert created.status_code == 201, created.text
    conn = await asyncpg.connect(database_url)
    owner = await conn.fetchval(
        "SELECT o.code FROM intakes i JOIN organisations o ON o.id = i.referrer_organisation_id WHERE i.id = $1",
        uuid.UUID(created.json()["id"]),
    )
    await conn.close()
    assert owner == "verloskundigen-zuid"
    assert (await idp_client.get(f"/api/v1/referrals/{created.json()['id']}", headers=bearer(raw))).status_code == 200


def test_mapping_rules_are_validated(monkeypatch) -> None:
    with pytest.raises(ValueError):
        ExternalMappingRule.model_validate({**MAPPING[0], "scopes": ["root"]})
    with pytest.raises(ValueError):
        ExternalMappingRule.model_validate({**MAPPING[0], "scopes": []})
    monkeypatch.setenv("EXTERNAL_MAPPING", json.dumps(MAPPING))  # as an operator sets it
    settings = Settings()
    assert settings.external_mapping[1].organisation == "verloskundigen-zuid"


def test_grant_is_pure() -> None:
    rules = [ExternalMappingRule.model_validate(rule) for rule in MAPPING]
    got = grant({"iss": ISSUER, "groups": ["rotterdam-intake"], "scope": "intakes:read admin"}, rules)
    assert got == ExternalGrant("aanmeldpunt-rotterdam", frozenset({"intakes:read"}))
    got = grant({"iss": ISSUER, "groups": "rotterdam-intake"}, rules)
    assert got.scopes == frozenset({"intakes:read", "intakes:write"})
    with pytest.raises(NotMapped):
        grant({"iss": ISSUER, "groups": ["rotterdam-intake"], "scope": ["intakes:read"]}, rules)
