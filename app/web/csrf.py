"""CSRF protection of the form: a signed double-submit token. The same random value goes in
a SameSite=Strict, HttpOnly cookie and in a hidden field; a POST must bring both, equal, with
a valid signature (HMAC-SHA256 under FORM_SECRET), so another site can neither read nor
forge the pair."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

COOKIE = "aanmelden_csrf"
FIELD = "csrf"


def _sign(key: bytes, nonce: str) -> str:
    mac = hmac.new(key, nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def new_token(key: bytes) -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(key, nonce)}"


def valid(key: bytes, cookie: str | None, submitted: str | None) -> bool:
    if not cookie or not submitted or len(cookie) > 200:
        return False
    if not hmac.compare_digest(cookie.encode(), submitted.encode()):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(signature.encode(), _sign(key, nonce).encode())
