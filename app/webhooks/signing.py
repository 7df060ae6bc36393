"""Standard Webhooks 1.0 signatures (pure): `v1,` + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"
with the secret's bytes (`whsec_` + base64)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    payload = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures: during a rotation the new and the old secret both sign."""
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_in_use)
