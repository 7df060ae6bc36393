"""SSRF on outbound webhooks (issue 13 point 4): the address policy as a table, the check at
subscription creation and change, and again at every delivery, connecting to the checked
address only (a real receiver on loopback; DNS answers are substituted where a test needs a
name to resolve to a chosen address)."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update

from app.intakes.delivery import LOOKUP
from app.webhooks import destination, dispatcher
from app.webhooks.address_policy import check_host, odd_ipv4_form, refusal
from app.webhooks.models import DeliveryAttempt, Subscription
from tests.support.helpers import auth_for, referral, seed_programmes
from tests.support.receiver import Receiver, start

# The addresses named in the issue, and their neighbours.
REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("::ffff:127.0.0.1", "carries an IPv4"),
    ("::ffff:10.0.0.1", "carries an IPv4"),
    ("::ffff:8.8.8.8", "carries an IPv4"),
    ("::127.0.0.1", "carries an IPv4"),  # IPv4-compatible
    ("64:ff9b::a00:1", "carries an IPv4"),  # NAT64 of 10.0.0.1
    ("2002:a00:1::1", "carries an IPv4"),  # 6to4 of 10.0.0.1
    ("198.18.0.1", "benchmarking"),
    ("192.0.2.1", "documentation"),
]
ALLOWED = ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "145.97.39.155"]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_refused_addresses(address: str, why: str) -> None:
    refused = refusal(ipaddress.ip_address(address))
    assert refused is not None and why in refused.reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_loopback_only_with_the_development_setting() -> None:
    for address in ("127.0.0.1", "::1"):
        assert refusal(ipaddress.ip_address(address), allow_loopback=True) is None
    # the setting opens loopback, nothing else and no embedded form of it
    for address in ("::ffff:127.0.0.1", "10.0.0.1", "169.254.169.254", "0.0.0.0"):
        assert refusal(ipaddress.ip_address(address), allow_loopback=True) is not None


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "017700000001", "0x7f.0.0.1"])
def test_numeric_forms_refused_by_their_form(host: str) -> None:
    assert odd_ipv4_form(host)
    address, refused = check_host(host, [ipaddress.ip_address("127.0.0.1")], allow_loopback=True)
    assert address is None and refused is not None and "four decimal numbers" in refused.reason


@pytest.mark.parametrize("host", ["127.0.0.1", "hooks.example.org", "::1", "10.0.0.1", "1e100.net"])
def test_ordinary_hosts_are_not_odd_forms(host: str) -> None:
    assert not odd_ipv4_form(host)


def test_every_resolved_address_must_be_public() -> None:
    public, internal = ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.7")
    assert check_host("hooks.example.org", [public]) == (public, None)
    address, refused = check_host("hooks.example.org", [public, internal])
    assert address is None and refused is not None and "10.0.0.7" in refused.reason
    assert check_host("nowhere.example", [])[1] is not None


ISSUE_URLS = [
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/hook",
    "https://0.0.0.0/hook",
    "https://2130706433/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://0177.0.0.1/hook",
    "https://[fe80::1]/hook",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = start(r)
    yield r
    server.shutdown()


@pytest.fixture
def strict(settings):
    """The production setting: no loopback either."""
    return settings.model_copy(update={"webhook_allow_loopback_http": False})


@pytest.mark.parametrize("url", ISSUE_URLS)
async def test_creation_refuses_internal_addresses(url: str, client, app, strict) -> None:
    app.state.settings = strict
    admin = await auth_for(client, "admin")
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={"url": url, "eventTypes": ["intake.received"], "organisation": "aanmeldpunt-rotterdam"},
        headers=admin,
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    (param,) = r.json()["invalidParams"]
    assert param["name"] == "url" and "public addresses" in param["reason"]


async def test_change_refuses_internal_address_and_a_name_resolving_to_one(client, app, strict, monkeypatch) -> None:
    app.state.settings = strict

    async def fake_dns(host: str, port: int) -> list:
        return [ipaddress.ip_address("8.8.8.8")] if host == "public.example" else [ipaddress.ip_address("10.9.8.7")]

    monkeypatch.setattr(destination, "resolve_addresses", fake_dns)
    admin = await auth_for(client, "admin")
    created = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": "https://public.example/h",
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    changed = await client.patch(
        f"/api/v1/webhook-subscriptions/{created.json()['id']}",
        json={"url": "https://intranet.example/h"},
        headers=admin,
    )
    assert changed.status_code == 400
    assert "10.9.8.7" in changed.json()["invalidParams"][0]["reason"]


async def _deliver(settings) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        while await dispatcher.deliver_once(http, settings, random.Random(1), LOOKUP):
            pass


async def test_delivery_checks_again_and_refuses_without_contacting(client, db, settings, strict, receiver) -> None:
    """Subscribed while loopback was allowed; the dispatcher runs with the production setting:
    the receiver hears nothing and the attempt records why, with no answer bytes."""
    await seed_programmes()
    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": receiver.url("ok", "hub"),
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert r.status_code == 201
    await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    await _deliver(strict)
    assert receiver.arrivals == []
    (attempt,) = (await db.scalars(select(DeliveryAttempt))).all()
    assert attempt.status_code is None and attempt.response_excerpt is None
    assert attempt.error is not None and attempt.error.startswith("refused: ") and "loopback" in attempt.error


async def test_delivery_connects_to_the_checked_address_keeping_the_host(
    client, db, settings, receiver, monkeypatch
) -> None:
    """A name is resolved once per delivery and the request goes to that address: a second,
    rebinding answer cannot redirect it. The receiver sees the URL's host in Host."""
    await seed_programmes()
    loopback, internal = [ipaddress.ip_address("127.0.0.1")], [ipaddress.ip_address("10.0.0.1")]
    answer, seen = [loopback], []

    async def rebinding_dns(host: str, port: int) -> list:
        seen.append(host)
        return answer[0]

    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    monkeypatch.setattr(destination, "resolve_addresses", rebinding_dns)
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": f"http://hooks.partner.test:{receiver.port}/ok/hub",
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text  # http: the name resolves to loopback, allowed in development
    receiver.secrets["hub"] = [r.json()["secret"]]
    seen.clear()
    await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    await _deliver(settings)
    (arrival,) = receiver.of("hub")
    assert arrival.verified and arrival.headers["host"] == f"hooks.partner.test:{receiver.port}"
    assert seen == ["hooks.partner.test"]  # resolved once; the connection used that answer

    # The next delivery resolves again and now gets an internal address: refused, not sent.
    answer[0] = internal
    await client.post("/api/v1/referrals", json=referral(**{"client.bsn": "111222333"}), headers=referrer)
    await _deliver(settings)
    assert len(receiver.of("hub")) == 1
    errors = (await db.scalars(select(DeliveryAttempt.error).where(DeliveryAttempt.error.is_not(None)))).all()
    assert any("10.0.0.1" in e for e in errors)


# Issue 13 attacker review: ranges the policy let through (fec0::/10, 192.0.0.0/24) and their
# neighbours that Python 3.11's `is_global` alone gets wrong or names vaguely.
REVIEW_REFUSED = [
    ("fec0::1", "site-local"),
    ("feff::1", "site-local"),
    ("192.0.0.8", "IETF protocol assignment"),
    ("192.0.0.9", "IETF protocol assignment"),
    ("192.0.0.170", "IETF protocol assignment"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.254", "benchmarking"),
    ("192.88.99.1", "6to4 relay"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("64:ff9b::a9fe:a9fe", "carries an IPv4 address (mapped, compatible or translated: 169.254.169.254)"),
    ("64:ff9b::808:808", "carries an IPv4 address (mapped, compatible or translated: 8.8.8.8)"),
    ("2002:c0a8:101::1", "carries an IPv4 address (mapped, compatible or translated: 192.168.1.1)"),
    ("::a00:1", "carries an IPv4 address (mapped, compatible or translated: 10.0.0.1)"),
    ("240.0.0.1", "reserved"),
    ("254.1.2.3", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("0.1.2.3", "this network"),
]


@pytest.mark.parametrize(("address", "why"), REVIEW_REFUSED)
def test_review_addresses_refused_by_the_policy(address: str, why: str) -> None:
    for allow_loopback in (False, True):
        refused = refusal(ipaddress.ip_address(address), allow_loopback=allow_loopback)
        assert refused is not None and why in refused.reason


def _url(address: str) -> str:
    return f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook"


@pytest.mark.parametrize(("address", "why"), REVIEW_REFUSED)
async def test_review_addresses_refused_at_creation(address: str, why: str, client, app, strict, monkeypatch) -> None:
    """As a literal in the URL, and as what a name resolves to: a problem+json 400 naming why."""
    app.state.settings = strict

    async def fake_dns(host: str, port: int) -> list:
        return [ipaddress.ip_address(address)]

    admin = await auth_for(client, "admin")
    for url in (_url(address), "https://hooks.partner.test/hook"):
        if url.startswith("https://hooks."):
            monkeypatch.setattr(destination, "resolve_addresses", fake_dns)
        r = await client.post(
            "/api/v1/webhook-subscriptions",
            json={"url": url, "eventTypes": ["intake.received"], "organisation": "aanmeldpunt-rotterdam"},
            headers=admin,
        )
        assert r.status_code == 400, r.text
        assert r.headers["content-type"] == "application/problem+json"
        (param,) = r.json()["invalidParams"]
        assert param["name"] == "url" and "public addresses" in param["reason"] and why in param["reason"]


@pytest.mark.parametrize(("address", "why"), REVIEW_REFUSED)
async def test_review_addresses_refused_at_delivery(address: str, why: str, client, db, settings, monkeypatch) -> None:
    """A name that was public when subscribed resolves to the address at delivery: the attempt
    records why and no request is made at all (the HTTP client would answer 200 to anything)."""
    await seed_programmes()
    answer = [ipaddress.ip_address("8.8.8.8")]

    async def fake_dns(host: str, port: int) -> list:
        return answer

    monkeypatch.setattr(destination, "resolve_addresses", fake_dns)
    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": "https://hooks.partner.test/hook",
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    answer[0] = ipaddress.ip_address(address)
    await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    contacted: list[httpx.Request] = []

    def anything(request: httpx.Request) -> httpx.Response:
        contacted.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(anything)) as http:
        assert await dispatcher.deliver_once(http, settings, random.Random(1), LOOKUP)
    assert contacted == []
    (attempt,) = (await db.scalars(select(DeliveryAttempt))).all()
    assert attempt.status_code is None and attempt.response_excerpt is None
    assert attempt.error is not None and attempt.error.startswith("refused: ") and why in attempt.error


# Issue 13 attacker review: the whole URL policy at every delivery, not only the address. The
# row is changed in the database after it was subscribed (or subscribed while the development
# setting was on and delivered after it was turned off).
CHANGED_ROWS = [
    ("http://hooks.partner.test/hook", "8.8.8.8", False, "plain http://"),
    ("http://hooks.partner.test/hook", "8.8.8.8", True, "plain http://"),  # the setting is for loopback only
    ("http://hooks.partner.test/hook", "127.0.0.1", False, "loopback"),  # the setting turned off
    ("http://127.0.0.1:9/hook", "127.0.0.1", False, "loopback"),
    ("ftp://hooks.partner.test/hook", "8.8.8.8", False, "not an absolute https:// URL"),
    ("https://user:pw@hooks.partner.test/hook", "8.8.8.8", False, "credentials"),
    ("https://hooks.partner.test:0/hook", "8.8.8.8", False, "port 0"),  # attacker review
]


@pytest.mark.parametrize("url", ["https://hooks.partner.test:0/hook", "https://hooks.partner.test:99999/hook"])
async def test_creation_refuses_port_0_and_ports_out_of_range(url: str, client, app, strict) -> None:
    """Attacker review: `:0` was accepted and delivered to the default port under a Host of `:0`."""
    app.state.settings = strict
    admin = await auth_for(client, "admin")
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={"url": url, "eventTypes": ["intake.received"], "organisation": "aanmeldpunt-rotterdam"},
        headers=admin,
    )
    assert r.status_code == 400, r.text
    (param,) = r.json()["invalidParams"]
    assert param["name"] == "url" and "port" in param["reason"]


async def _subscribe_then_change(client, db, monkeypatch, url: str, address: str) -> None:
    """Subscribed to https://hooks.partner.test (resolving to a public address then), the row
    changed to `url` and every name resolving to `address` by the time of the delivery."""
    answer = [ipaddress.ip_address("8.8.8.8")]

    async def fake_dns(host: str, port: int) -> list:
        return answer

    monkeypatch.setattr(destination, "resolve_addresses", fake_dns)
    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": "https://hooks.partner.test/hook",
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    await db.execute(update(Subscription).values(url=url))
    await db.commit()
    answer[0] = ipaddress.ip_address(address)
    await client.post("/api/v1/referrals", json=referral(), headers=referrer)


async def _deliver_recording(settings) -> list[httpx.Request]:
    contacted: list[httpx.Request] = []

    def anything(request: httpx.Request) -> httpx.Response:
        contacted.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(anything)) as http:
        assert await dispatcher.deliver_once(http, settings, random.Random(1), LOOKUP)
    return contacted


@pytest.mark.parametrize(("url", "address", "loopback_setting", "why"), CHANGED_ROWS)
async def test_delivery_checks_the_whole_url_policy_again(
    url: str, address: str, loopback_setting: bool, why: str, client, db, settings, monkeypatch
) -> None:
    await seed_programmes()
    await _subscribe_then_change(client, db, monkeypatch, url, address)
    contacted = await _deliver_recording(settings.model_copy(update={"webhook_allow_loopback_http": loopback_setting}))
    assert contacted == []
    db.expire_all()
    (attempt,) = (await db.scalars(select(DeliveryAttempt))).all()
    assert attempt.status_code is None and attempt.response_excerpt is None
    assert attempt.error is not None and attempt.error.startswith("refused: ") and why in attempt.error


async def test_an_unchanged_https_row_is_delivered(client, db, settings, monkeypatch) -> None:
    """The control for the table above: the same harness sends an https row to a public address."""
    await seed_programmes()
    await _subscribe_then_change(client, db, monkeypatch, "https://hooks.partner.test/hook", "8.8.8.8")
    (request,) = await _deliver_recording(settings)
    assert request.url == "https://8.8.8.8/hook" and request.headers["host"] == "hooks.partner.test"
