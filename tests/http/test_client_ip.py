"""Rate limits count an IPv6 caller by its /64, and behind TRUSTED_PROXIES by the rightmost
untrusted X-Forwarded-For hop; without trusted proxies the header is ignored."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.http.client_ip import parse_address, rate_limit_key, resolve_client
from app.main import create_app
from tests.support.helpers import self_registration

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # peer not a proxy: header ignored
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # forged left part ignored
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1, 10.1.1.1"], "198.51.100.1"),  # two proxies
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.1.1.1"], "198.51.100.1"),  # several header lines
        ("10.0.0.2", ["10.9.9.9, 10.1.1.1"], "10.9.9.9"),  # all trusted: leftmost
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["not-an-ip, 10.1.1.1"], "10.1.1.1"),  # garbage ends the walk
        ("10.0.0.2", ["[2001:db8:1::5]:443"], "2001:db8:1::5"),
        ("10.0.0.2", ["198.51.100.1:5123"], "198.51.100.1"),
        ("10.0.0.2", ["::ffff:198.51.100.1"], "198.51.100.1"),
        ("::ffff:10.0.0.2", ["198.51.100.1"], "198.51.100.1"),  # a mapped peer is its IPv4 address
        ("2001:db8:ffff::1", ["2001:db8:1::5"], "2001:db8:1::5"),
    ],
)
def test_resolve_client(peer: str, forwarded: list[str], expected: str) -> None:
    assert resolve_client(peer, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert resolve_client("10.0.0.2", ["198.51.100.1"], []) == "10.0.0.2"
    assert resolve_client(None, ["198.51.100.1"], PROXIES) == "unknown"


def test_rate_limit_key() -> None:
    assert rate_limit_key("198.51.100.7") == "198.51.100.7"
    assert rate_limit_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert rate_limit_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert rate_limit_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert rate_limit_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert parse_address("fe80::1%eth0") == ipaddress.ip_address("fe80::1")


@pytest.fixture
async def limited(settings: Any) -> AsyncIterator[Any]:
    configured = settings.model_copy(
        update={
            "self_registration_rate": 2,
            "trusted_proxies": [ipaddress.ip_network("10.0.0.0/8")],
        }
    )
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        yield application


async def _register(app: Any, peer: str, forwarded: str | None = None) -> int:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.post("/api/v1/self-registrations", json=self_registration(), headers=headers)
        assert r.status_code in (202, 429), r.text
        if r.status_code == 429:
            assert r.headers["content-type"] == "application/problem+json" and int(r.headers["retry-after"]) > 0
        return r.status_code


async def test_ipv6_addresses_of_one_64_share_a_bucket(limited: Any) -> None:
    assert await _register(limited, "2001:db8:1:2::1") == 202
    assert await _register(limited, "2001:db8:1:2::2") == 202
    assert await _register(limited, "2001:db8:1:2:dead:beef:0:3") == 429  # same /64, new address
    assert await _register(limited, "2001:db8:1:3::1") == 202  # another /64


async def test_behind_a_trusted_proxy_each_caller_has_its_own_bucket(limited: Any) -> None:
    for _ in range(2):
        assert await _register(limited, "10.0.0.2", "198.51.100.1") == 202
    assert await _register(limited, "10.0.0.2", "198.51.100.1") == 429
    # a forged leftmost hop does not buy a new bucket
    assert await _register(limited, "10.0.0.2", "1.2.3.4, 198.51.100.1") == 429
    # another caller through the same proxy is not limited by the first
    assert await _register(limited, "10.0.0.2", "198.51.100.2") == 202


async def test_an_untrusted_peer_cannot_choose_its_bucket(limited: Any) -> None:
    assert await _register(limited, "203.0.113.5", "198.51.100.10") == 202
    assert await _register(limited, "203.0.113.5", "198.51.100.11") == 202
    assert await _register(limited, "203.0.113.5", "198.51.100.12") == 429
