"""Staff tokens from an external identity provider: its JWKS is fetched over real HTTP from
a server on a loopback port; tokens it signed are accepted, everything else refused."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk as jose_jwk
from jose import jwt as jose_jwt

from app.main import create_app
from tests.helpers import make_client

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
        "org": "aanmeldpunt-rotterdam",
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return str(jose_jwt.encode(claims, private.decode(), algorithm="ES256", headers={"kid": kid}))


async def test_external_idp_tokens(settings, idp) -> None:
    configured = settings.model_copy(
        update={"external_issuer": ISSUER, "external_audience": AUDIENCE, "external_jwks_url": idp["url"]}
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        await make_client("aanmeldpunt-rotterdam", "aanmeldpunt", ["admin"])  # the organisation exists
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

            async def status(raw: str) -> int:
                r = await client.get("/api/v1/intakes", headers={"Authorization": f"Bearer {raw}"})
                return r.status_code

            good = external_token(idp["private"])
            assert await status(good) == 200
            other_private, _ = pem_pair()
            assert await status(external_token(other_private)) == 401  # right kid, wrong key
            assert await status(external_token(idp["private"], kid="idp-unknown")) == 401
            assert await status(external_token(idp["private"], aud="someone-else")) == 401
            assert await status(external_token(idp["private"], exp=int(time.time()) - 3600)) == 401
            assert await status(external_token(idp["private"], org="no-such-organisation")) == 401
            assert await status(external_token(idp["private"], scope="referrals:read")) == 403
