"""app/webhooks/signing.py directly, against the Standard Webhooks 1.0 definition: `v1,` +
base64 HMAC-SHA256 over "{id}.{timestamp}.{body}" with the secret's decoded bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac

from app.webhooks.signing import PREFIX, new_secret, sign, signature_header

SECRET = PREFIX + base64.b64encode(b"k" * 32).decode()


def test_signature_is_standard_webhooks_v1() -> None:
    body = b'{"type":"intake.received"}'
    expected = base64.b64encode(hmac.new(b"k" * 32, b"msg_1.1700000000." + body, hashlib.sha256).digest()).decode()
    assert sign(SECRET, "msg_1", 1700000000, body) == "v1," + expected


def test_id_timestamp_and_body_all_count() -> None:
    base = sign(SECRET, "msg_1", 1, b"{}")
    assert sign(SECRET, "msg_2", 1, b"{}") != base
    assert sign(SECRET, "msg_1", 2, b"{}") != base
    assert sign(SECRET, "msg_1", 1, b"{ }") != base


def test_new_secrets_are_prefixed_32_random_bytes() -> None:
    one, two = new_secret(), new_secret()
    assert one.startswith(PREFIX) and one != two
    assert len(base64.b64decode(one.removeprefix(PREFIX))) == 32


def test_during_a_rotation_both_secrets_sign() -> None:
    old = new_secret()
    header = signature_header([SECRET, old], "msg_1", 1, b"{}")
    assert header.split(" ") == [sign(SECRET, "msg_1", 1, b"{}"), sign(old, "msg_1", 1, b"{}")]
