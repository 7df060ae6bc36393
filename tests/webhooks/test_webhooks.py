"""Webhooks end to end: a real receiver verifies every delivery with `standardwebhooks`."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app import clock
from app.intakes.delivery import LOOKUP
from app.webhooks import dispatcher
from app.webhooks.models import Delivery, Event
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import PERSONAL_DATA, assert_no_personal_data_logged, auth_for, referral, seed_programmes
from tests.support.receiver import Receiver, start

ALL = [
    "intake.received",
    "intake.contacted",
    "intake.assessed",
    "intake.routed",
    "handoff.offered",
    "handoff.accepted",
    "handoff.declined",
    "handoff.revoked",
    "handoff.first_contact",
    "handoff.ended",
    "intake.support_started",
    "intake.closed",
    "consent.withdrawn",
    "endpoint.disabled",
]
PERSONAL = PERSONAL_DATA


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = start(r)
    yield r
    server.shutdown()


async def subscribe(
    client, admin, receiver: Receiver, behaviour: str, name: str, org: str, types=ALL
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={"url": receiver.url(behaviour, name), "eventTypes": types, "organisation": org},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    sub: dict[str, Any] = r.json()
    assert sub["secret"].startswith("whsec_")
    receiver.secrets[name] = [sub["secret"]]
    return sub


async def drain(settings, rounds: int = 12) -> None:
    """Run the dispatcher until nothing is due, moving the clock past each retry delay."""
    rng = random.Random(7)
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds) as http:
        for _ in range(rounds):
            while await dispatcher.deliver_once(http, settings, rng, LOOKUP):
                pass
            clock.advance(timedelta(hours=11))


async def test_fan_out_signatures_retries_and_visibility(client, db, settings, receiver, capsys) -> None:
    await seed_programmes()
    admin, staff, referrer, mvr = [
        await auth_for(client, role) for role in ("admin", "staff", "referrer", "mvr", "referrer2")
    ][:4]
    await subscribe(client, admin, receiver, "flaky", "aanmeldpunt", "aanmeldpunt-rotterdam")
    await subscribe(client, admin, receiver, "ok", "mvr", "moeders-van-rotterdam")
    await subscribe(client, admin, receiver, "ok", "voorzorg", "jgz-voorzorg")
    await subscribe(client, admin, receiver, "ok", "referrer", "verloskundigen-zuid")
    await subscribe(client, admin, receiver, "ok", "other-referrer", "huisartsen-noord")

    r = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    intake_id = r.json()["id"]
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/assessment", {"visitedAt": now_iso(), "location": "home"})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/accept")
    await drain(settings)

    events = (
        await db.execute(select(Event.id, Event.type).where(Event.intake_id == intake_id).order_by(Event.seq))
    ).all()
    expected = [str(e.id) for e in events]

    # The aanmeldpunt hears everything, at least once, despite its endpoint failing at first.
    hub = receiver.of("aanmeldpunt")
    assert all(a.verified for a in hub)
    delivered = [a.webhook_id for a in hub if a.answered == 200]
    assert sorted(set(delivered)) == sorted(expected) and len(delivered) == len(expected)
    # webhook-id repeats only on retries: every repeat follows a failed attempt of that id.
    failed_ids = {a.webhook_id for a in hub if a.answered != 200}
    assert len(failed_ids) >= 1
    assert {i for i in expected if [a.webhook_id for a in hub].count(i) > 1} <= failed_ids
    # Order per intake holds for the aanmeldpunt's subscription despite the retries.
    assert delivered == expected
    # Timestamps are fresh per attempt.
    retried = next(iter(failed_ids))
    stamps = {a.headers["webhook-timestamp"] for a in hub if a.webhook_id == retried}
    assert len(stamps) >= 1

    # The programme hears only from the offer on; other programmes and referrers nothing.
    mvr_types = [a.body["type"] for a in receiver.of("mvr")]
    assert mvr_types == ["handoff.offered", "handoff.accepted"]
    assert receiver.of("voorzorg") == [] and receiver.of("other-referrer") == []
    # The referrer hears of its own referral (feedback consent stands).
    assert [a.body["type"] for a in receiver.of("referrer")][:2] == ["intake.received", "intake.contacted"]

    # Thin payloads: ids, status, programme, deadlines and the URL; never personal data.
    for arrival in receiver.arrivals:
        assert arrival.verified
        assert set(arrival.body) == {"type", "timestamp", "data"}
        text = arrival.raw.decode()
        assert not any(p in text for p in PERSONAL), text
    sample = receiver.of("mvr")[0].body["data"]
    assert sample["intakeId"] == intake_id and sample["programme"] == "moeders-van-rotterdam"
    assert sample["url"] == f"http://testserver/api/v1/intakes/{intake_id}"

    deliveries = (
        await client.get(
            f"/api/v1/webhook-subscriptions/{(await _sub_id(client, admin, 'aanmeldpunt'))}/deliveries", headers=admin
        )
    ).json()
    assert all(d["status"] == "delivered" for d in deliveries["items"])
    assert any(len(d["history"]) > 1 and d["history"][0]["statusCode"] == 503 for d in deliveries["items"])
    assert_no_personal_data_logged(capsys)


async def _sub_id(client, admin, name: str) -> str:
    items = (await client.get("/api/v1/webhook-subscriptions", headers=admin)).json()["items"]
    return str(next(s["id"] for s in items if s["url"].endswith(f"/{name}")))


async def test_withdrawn_feedback_consent_stops_referrer_events(client, settings, receiver) -> None:
    await seed_programmes()
    admin, staff, referrer = [await auth_for(client, role) for role in ("admin", "staff", "referrer")]
    await subscribe(client, admin, receiver, "ok", "referrer", "verloskundigen-zuid")
    r = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    base = f"/api/v1/intakes/{r.json()['id']}"
    intake = (await client.get(base, headers=staff)).json()
    # An event is queued, then consent is withdrawn before the dispatcher runs: it is not sent.
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    feedback = next(c["id"] for c in intake["consents"] if c["scope"] == "feedback_to_referrer")
    await act(client, staff, f"{base}/consents/{feedback}/withdraw", {"at": now_iso()}, expect=201)
    await act(client, staff, f"{base}/close", {"reason": "no_support_needed"})
    await drain(settings, rounds=1)
    assert [a.body["type"] for a in receiver.of("referrer")] == []


async def test_rotation_signs_with_both_secrets_and_410_disables(client, settings, receiver) -> None:
    await seed_programmes()
    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    sub = await subscribe(client, admin, receiver, "ok", "hub", "aanmeldpunt-rotterdam")
    rotated = (await client.post(f"/api/v1/webhook-subscriptions/{sub['id']}/rotate-secret", headers=admin)).json()
    await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    await drain(settings, rounds=1)
    arrival = receiver.of("hub")[0]
    assert len(arrival.headers["webhook-signature"].split(" ")) == 2
    for secret in (sub["secret"], rotated["secret"]):
        receiver.secrets["hub"] = [secret]
        assert receiver.verify("hub", arrival.raw, arrival.headers)

    gone = await subscribe(client, admin, receiver, "gone", "gone", "aanmeldpunt-rotterdam", types=["intake.received"])
    await client.post("/api/v1/referrals", json=referral(**{"client.bsn": "111222333"}), headers=referrer)
    await drain(settings, rounds=2)
    state = (await client.get(f"/api/v1/webhook-subscriptions/{gone['id']}", headers=admin)).json()
    assert state["enabled"] is False and "410" in state["disabledReason"]
    disabled = [a.body for a in receiver.of("hub") if a.body["type"] == "endpoint.disabled"]
    assert disabled and disabled[0]["data"]["subscriptionId"] == gone["id"]


async def test_subscription_validation_and_replay(client, settings, receiver) -> None:
    await seed_programmes()
    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    bad = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": "https://example.org/hook",
            "eventTypes": ["intake.nope"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"].startswith("eventTypes")
    bad = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": "http://example.org/hook",
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "url"
    staff = await auth_for(client, "staff")
    assert (await client.get("/api/v1/webhook-subscriptions", headers=staff)).status_code == 403
    sub = await subscribe(client, admin, receiver, "ok", "hub", "aanmeldpunt-rotterdam", types=["intake.received"])
    await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    await drain(settings, rounds=1)
    assert len(receiver.of("hub")) == 1
    since = (clock.now() - timedelta(days=30)).isoformat()
    r = await client.post(f"/api/v1/webhook-subscriptions/{sub['id']}/replay", json={"since": since}, headers=admin)
    assert r.status_code == 200 and r.json()["queued"] == 1
    await drain(settings, rounds=1)
    hub = receiver.of("hub")
    assert len(hub) == 2 and hub[0].webhook_id == hub[1].webhook_id
    assert (await client.delete(f"/api/v1/webhook-subscriptions/{sub['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"/api/v1/webhook-subscriptions/{sub['id']}", headers=admin)).status_code == 404


async def test_hanging_receiver_does_not_slow_the_api(client, settings, receiver) -> None:
    """The API answers while a delivery is stuck in the receiver: delivery is never in the request path."""
    await seed_programmes()
    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    await subscribe(client, admin, receiver, "hang", "hub", "aanmeldpunt-rotterdam", types=["intake.received"])
    receiver.hang_seconds = 3
    await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    slow = settings.model_copy(update={"webhook_timeout_seconds": 1.5})
    task = asyncio.create_task(drain(slow, rounds=1))
    while receiver.hanging == 0:
        await asyncio.sleep(0.05)
    r = await client.post("/api/v1/referrals", json=referral(**{"client.bsn": "111222333"}), headers=referrer)
    assert r.status_code == 201 and not task.done()
    await task


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEBHOOK_LEASE_SECONDS": "3",
        "WEBHOOK_BATCH_SIZE": "10",
        "WORKER_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",  # the receiver is on loopback
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def test_sigkilled_dispatcher_loses_nothing(client, db, database_url, receiver) -> None:
    await seed_programmes()
    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    await subscribe(client, admin, receiver, "ok", "hub", "aanmeldpunt-rotterdam", types=["intake.received"])
    for _ in range(30):
        assert (await client.post("/api/v1/referrals", json=referral(), headers=referrer)).status_code == 201
    expected = set(map(str, (await db.scalars(select(Event.id).where(Event.type == "intake.received"))).all()))
    receiver.slow_seconds = 0.3
    first = _worker(database_url)
    try:
        while len(receiver.of("hub")) < 3:
            await asyncio.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)  # in the middle of a batch of 10
        first.wait()
    killed_at = len(receiver.of("hub"))
    assert killed_at < 30
    second = _worker(database_url)
    try:
        for _ in range(600):
            arrived = {a.webhook_id for a in receiver.of("hub")} >= expected
            if arrived and not await _undelivered(db):
                break
            await asyncio.sleep(0.1)
    finally:
        second.terminate()
        second.wait()
    assert {a.webhook_id for a in receiver.of("hub")} == expected
    assert await _undelivered(db) == 0


async def _undelivered(db) -> int:
    db.expire_all()
    count = await db.scalar(select(func.count()).select_from(Delivery).where(Delivery.status != "delivered"))
    await db.commit()  # end the snapshot so the next look sees the worker's commits
    return int(count or 0)


def test_public_base_url_follows_host_and_port(monkeypatch):
    from app.config import Settings

    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8731")
    assert Settings(_env_file=None).public_base_url == "http://127.0.0.1:8731"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://aanmeldpunt.example.nl")
    assert Settings(_env_file=None).public_base_url == "https://aanmeldpunt.example.nl"


def test_plain_http_url_names_the_development_setting():
    import pytest

    from app.config import Settings
    from app.http.problems import Problem
    from app.webhooks.api import check_url

    with pytest.raises(Problem) as refused:
        check_url("http://receiver.example.org/hook", Settings(_env_file=None, webhook_allow_loopback_http=False))
    assert "WEBHOOK_ALLOW_LOOPBACK_HTTP" in refused.value.invalid_params[0]["reason"]


def test_one_timestamp_format_on_the_wire():
    from datetime import datetime, timedelta, timezone

    from app import clock

    moment = datetime(2026, 11, 23, 10, 15, 2, tzinfo=timezone(timedelta(hours=1)))
    assert clock.iso_z(moment) == "2026-11-23T09:15:02Z"
