"""The only module that touches the JWT library (python-jose).

python-jose has had algorithm-confusion bugs (CVE-2024-33663; a DER-key HMAC bypass in
2026 with no fixed release), so it never chooses the algorithm: the key record does.
Only asymmetric algorithms are accepted, the header's `alg` must equal the key's, the
`kid` must name a key we know, and `exp`, `iat`, `iss`, `aud` are required.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jwt
from jose.exceptions import JOSEError

ALLOWED_ALGORITHMS = frozenset({"ES256", "ES384", "RS256", "RS384", "RS512", "PS256"})


class TokenError(Exception):
    """The token is not acceptable; the message is safe to show."""


@dataclass(frozen=True)
class PublicKey:
    kid: str
    algorithm: str
    jwk: Mapping[str, Any]


@dataclass(frozen=True)
class KeyPair:
    kid: str
    algorithm: str
    private_pem: str
    public_jwk: dict[str, Any]


def _b64(n: int, length: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(length, "big")).rstrip(b"=").decode()


def generate_key() -> KeyPair:
    """A new ES256 (P-256) key with a random kid."""
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    kid = secrets.token_hex(8)
    public_jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.x, 32),
        "y": _b64(numbers.y, 32),
        "alg": "ES256",
        "use": "sig",
        "kid": kid,
    }
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return KeyPair(kid=kid, algorithm="ES256", private_pem=pem, public_jwk=public_jwk)


def sign(claims: dict[str, Any], key: KeyPair) -> str:
    if key.algorithm not in ALLOWED_ALGORITHMS:
        raise TokenError("refusing to sign with a non-asymmetric algorithm")
    token: str = jwt.encode(claims, key.private_pem, algorithm=key.algorithm, headers={"kid": key.kid})
    return token


def unverified_header(token: str) -> dict[str, Any]:
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except JOSEError as exc:
        raise TokenError("malformed token") from exc
    return header


def unverified_issuer(token: str) -> str | None:
    try:
        claims = jwt.get_unverified_claims(token)
    except JOSEError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


_LEEWAY_SECONDS = 30
# Tokens already verified, so a client's burst with one token pays for the signature once.
# Keyed by the exact token and the expected issuer/audience; a hit is honoured only while
# the same key (kid, algorithm, JWK) still verifies and the token has not expired.
_VERIFIED: OrderedDict[tuple[str, str, str], tuple[tuple[str, str], float, dict[str, Any]]] = OrderedDict()
_VERIFIED_MAX = 4096


@lru_cache(maxsize=64)
def _public_key(algorithm: str, jwk_json: str) -> Any:
    """The library's key object for a JWK; building it (point decoding) is not free."""
    public = jwk.construct(json.loads(jwk_json), algorithm=algorithm)
    if public.is_public() is False and hasattr(public, "public_key"):
        public = public.public_key()
    return public


def verify(token: str, keys: Mapping[str, PublicKey], *, issuer: str, audience: str) -> dict[str, Any]:
    header = unverified_header(token)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise TokenError("algorithm not allowed")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenError("unknown key")
    if key.algorithm != alg or key.algorithm not in ALLOWED_ALGORITHMS:
        raise TokenError("algorithm does not match the key")
    # The token's header names the kid, so (algorithm, JWK) is all that tells keys apart.
    fingerprint = (key.algorithm, json.dumps(dict(key.jwk), sort_keys=True))
    cache_key = (token, issuer, audience)
    cached = _VERIFIED.get(cache_key)
    if cached is not None:
        cached_fingerprint, expires, claims = cached
        if cached_fingerprint == fingerprint and time.time() < expires + _LEEWAY_SECONDS:
            return dict(claims)
        _VERIFIED.pop(cache_key, None)
    try:
        public = _public_key(*fingerprint)
        claims = jwt.decode(
            token,
            public,
            algorithms=[key.algorithm],
            audience=audience,
            issuer=issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_iss": True,
                "require_aud": True,
                "require_sub": True,
                "leeway": _LEEWAY_SECONDS,
            },
        )
    except JOSEError as exc:
        raise TokenError("invalid token") from exc
    _VERIFIED[cache_key] = (fingerprint, float(claims["exp"]), claims)
    if len(_VERIFIED) > _VERIFIED_MAX:
        _VERIFIED.popitem(last=False)
    return dict(claims)
