"""A programme learns nothing of another programme through webhooks: with two programmes'
handoffs live on one intake, each programme's copy of an event names only its own programme
(the decided one is `null` for the other); the aanmeldpunt and the referrer see it as stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, referral, seed_programmes
from tests.support.receiver import Receiver, start
from tests.webhooks.test_webhooks import ALL, drain, subscribe

MVR, WIJKTEAM = "moeders-van-rotterdam", "wijkteam"
EVERYTHING = [*ALL, "intake.coordinator_changed", "deadline.approaching", "deadline.breached"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = start(r)
    yield r
    server.shutdown()


async def test_programme_b_is_not_told_which_programme_a_is(client, settings, receiver) -> None:
    await seed_programmes()
    admin, staff, referrer, mvr, wijkteam = [
        await auth_for(client, role) for role in ("admin", "staff", "referrer", "mvr", "wijkteam")
    ]
    for name, org in (
        ("a", "moeders-van-rotterdam"),
        ("b", "wijkteam-rotterdam"),
        ("hub", "aanmeldpunt-rotterdam"),
        ("referrer", "verloskundigen-zuid"),
    ):
        await subscribe(client, admin, receiver, "ok", name, org, types=EVERYTHING)
    base = f"/api/v1/intakes/{(await act(client, referrer, '/api/v1/referrals', referral(), 201))['id']}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": MVR})  # A is the decided programme
    first = await act(client, staff, f"{base}/handoffs", expect=201)
    second = await act(client, staff, f"{base}/handoffs", {"programme": WIJKTEAM}, 201)
    await act(client, mvr, f"/api/v1/handoffs/{first['id']}/accept")
    await act(client, wijkteam, f"/api/v1/handoffs/{second['id']}/accept")
    # Events about the intake (not about one handoff) reach both programmes.
    r = await client.put(f"{base}/coordinator", json={"name": "Coach"}, headers=staff)
    assert r.status_code == 200, r.text
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await drain(settings, rounds=2)

    def heard(name: str) -> list[tuple[str, str | None]]:
        return [(a.body["type"], a.body["data"]["programme"]) for a in receiver.of(name)]

    # B hears the intake's events without A's name; its own handoff's events name its own.
    assert heard("b") == [
        ("handoff.offered", WIJKTEAM),
        ("handoff.accepted", WIJKTEAM),
        ("intake.coordinator_changed", None),
        ("intake.contacted", None),
    ]
    assert all(MVR not in a.raw.decode() for a in receiver.of("b"))
    # A was chosen: it may read its own programme everywhere.
    assert heard("a") == [
        ("handoff.offered", MVR),
        ("handoff.accepted", MVR),
        ("intake.coordinator_changed", MVR),
        ("intake.contacted", MVR),
    ]
    # The aanmeldpunt and the referrer get the event as it was stored.
    for name in ("hub", "referrer"):
        assert ("intake.coordinator_changed", MVR) in heard(name)
