"""Tokens: real JWTs, and every forgery the JWT library has been fooled by is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from jose import jwk as jose_jwk

from tests.support.helpers import auth_for, make_client, referral, seed_programmes, token


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, key: bytes | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
async def genuine(client):
    cid, secret = await make_client("aanmeldpunt-rotterdam", "aanmeldpunt", ["intakes:read", "intakes:write"])
    raw = await token(client, cid, secret)
    header = json.loads(base64.urlsafe_b64decode(raw.split(".")[0] + "=="))
    claims = json.loads(base64.urlsafe_b64decode(raw.split(".")[1] + "=="))
    jwks = (await client.get("/.well-known/jwks.json")).json()
    return raw, header, claims, jwks


async def test_token_response_and_jwks(client, genuine):
    raw, header, claims, jwks = genuine
    assert header["alg"] == "ES256" and header["kid"] in {k["kid"] for k in jwks["keys"]}
    for claim in ("iss", "sub", "aud", "exp", "iat", "jti", "scope", "org"):
        assert claim in claims
    ok = await client.get("/api/v1/intakes", headers={"Authorization": f"Bearer {raw}"})
    assert ok.status_code == 200


async def test_bad_credentials_and_scope(client):
    cid, secret = await make_client("verloskundigen-zuid", "referrer", ["referrals:write"])
    bad = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": cid, "client_secret": "wrong"}
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    scope = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret, "scope": "admin"},
    )
    assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"
    basic = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret))
    assert basic.status_code == 200 and basic.json()["token_type"] == "Bearer"


def _public_pem_and_der(jwks: dict, kid: str) -> tuple[bytes, bytes]:
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    public = jose_jwk.construct(key, algorithm="ES256")
    pem = public.to_pem()
    der = serialization.load_pem_public_key(pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, der


@pytest.mark.parametrize("case", ["none", "hs256-pem", "hs256-der", "expired", "audience", "issuer", "kid", "tampered"])
async def test_forged_tokens_are_refused(client, genuine, case):
    raw, header, claims, jwks = genuine
    pem, der = _public_pem_and_der(jwks, header["kid"])
    now = int(time.time())
    if case == "none":
        forged = forge({"alg": "none", "typ": "JWT", "kid": header["kid"]}, claims, None)
    elif case == "hs256-pem":
        forged = forge({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}, claims, pem)
    elif case == "hs256-der":
        forged = forge({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}, claims, der)
    else:
        from jose import jwt as jose_jwt

        from app.auth.tokens import generate_key

        stranger = generate_key()
        changed = dict(claims)
        kid = header["kid"]
        if case == "expired":
            changed.update(iat=now - 7200, exp=now - 3600)
        elif case == "audience":
            changed["aud"] = "urn:someone-else"
        elif case == "issuer":
            changed["iss"] = "urn:evil"
        elif case == "kid":
            kid = "unknown-kid"
        if case == "tampered":
            parts = raw.split(".")
            changed["scope"] = "admin intakes:read"
            forged = ".".join([parts[0], b64(json.dumps(changed).encode()), parts[2]])
        else:
            # signed with a key the service does not know, under its own or an unknown kid
            forged = jose_jwt.encode(changed, stranger.private_pem, algorithm="ES256", headers={"kid": kid})
    r = await client.get("/api/v1/intakes", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401, (case, r.text)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"


async def test_missing_token_401_and_wrong_scope_403(client):
    await seed_programmes()
    assert (await client.get("/api/v1/intakes")).status_code == 401
    referrer = await auth_for(client, "referrer")
    r = await client.get("/api/v1/intakes", headers=referrer)
    assert r.status_code == 403 and r.json()["status"] == 403


async def test_organisation_isolation(client):
    await seed_programmes()
    mine = await auth_for(client, "referrer")
    other = await auth_for(client, "referrer2")
    created = await client.post("/api/v1/referrals", json=referral(), headers=mine)
    intake_id = created.json()["id"]
    foreign = await client.get(f"/api/v1/referrals/{intake_id}", headers=other)
    assert foreign.status_code == 404
    assert "Jansen" not in foreign.text and intake_id not in foreign.text
    programme = await auth_for(client, "voorzorg")
    assert (await client.get(f"/api/v1/intakes/{intake_id}", headers=programme)).status_code == 404
    missing = await client.get("/api/v1/referrals/00000000-0000-0000-0000-000000000000", headers=mine)
    assert missing.status_code == 404 and missing.json() == foreign.json()


async def test_key_rotation_keeps_old_tokens_valid(client, app, genuine):
    from datetime import timedelta

    from app.auth.keys import rotate
    from app.db import session_factory

    raw, header, _, _ = genuine
    async with session_factory()() as db:
        new_kid = await rotate(db, timedelta(hours=1))
        await db.commit()
    await app.state.keyring.load()
    kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {header["kid"], new_kid} <= kids
    assert (await client.get("/api/v1/intakes", headers={"Authorization": f"Bearer {raw}"})).status_code == 200
    staff = await auth_for(client, "staff")
    new_header = json.loads(base64.urlsafe_b64decode(staff["Authorization"][7:].split(".")[0] + "=="))
    assert new_header["kid"] == new_kid


def _claims(**overrides):
    now = int(time.time())
    return {"iss": "urn:test", "aud": "urn:test:api", "sub": "c", "iat": now, "exp": now + 600, **overrides}


def test_verified_token_cache_still_checks_the_key():
    """A token verified once is served from the cache only while the same key still verifies:
    a retired kid, or a kid now bound to another key, is refused even after a cache hit."""
    from app.auth.tokens import PublicKey, TokenError, generate_key, sign, verify

    key, impostor = generate_key(), generate_key()
    token_ = sign(_claims(), key)
    keys = {key.kid: PublicKey(key.kid, key.algorithm, key.public_jwk)}
    assert verify(token_, keys, issuer="urn:test", audience="urn:test:api")["sub"] == "c"
    assert verify(token_, keys, issuer="urn:test", audience="urn:test:api")["sub"] == "c"  # cached
    with pytest.raises(TokenError):
        verify(token_, {}, issuer="urn:test", audience="urn:test:api")  # the key was retired
    swapped = {key.kid: PublicKey(key.kid, key.algorithm, {**impostor.public_jwk, "kid": key.kid})}
    with pytest.raises(TokenError):
        verify(token_, swapped, issuer="urn:test", audience="urn:test:api")
    with pytest.raises(TokenError):
        verify(token_, keys, issuer="urn:test", audience="urn:other")  # the cache is per audience


def test_cached_claims_are_a_copy():
    from app.auth.tokens import PublicKey, generate_key, sign, verify

    key = generate_key()
    token_ = sign(_claims(), key)
    keys = {key.kid: PublicKey(key.kid, key.algorithm, key.public_jwk)}
    verify(token_, keys, issuer="urn:test", audience="urn:test:api")["sub"] = "someone else"
    assert verify(token_, keys, issuer="urn:test", audience="urn:test:api")["sub"] == "c"
