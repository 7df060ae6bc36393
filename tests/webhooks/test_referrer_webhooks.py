"""The referrer's webhooks (issue 16): a referrer whose referral was merged into another case
hears that case's steps — as of its own referral (id, reference, URL of its own view) and
under the surviving case's consents — and never the aanmeldpunt's internal events."""

from __future__ import annotations

import pytest

from tests.consent.test_consent_flow import consent_id
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, referral, seed_programmes
from tests.webhooks.test_webhooks import drain, subscribe
from tests.webhooks.test_webhooks import receiver as receiver

TYPES = [
    "intake.received",
    "intake.contacted",
    "intake.routed",
    "handoff.offered",
    "handoff.accepted",
    "handoff.declined",
    "handoff.first_contact",
    "intake.support_started",
    "intake.closed",
    "intake.coordinator_changed",
    "deadline.breached",
    "consent.withdrawn",
]


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    return {role: await auth_for(client, role) for role in ("admin", "referrer", "referrer2", "staff", "mvr")}


async def test_a_merged_referrer_hears_the_surviving_case_as_its_own_referral(
    client, settings, receiver, actors
) -> None:
    admin, staff, mvr = actors["admin"], actors["staff"], actors["mvr"]
    await subscribe(client, admin, receiver, "ok", "kept", "verloskundigen-zuid", types=TYPES)
    await subscribe(client, admin, receiver, "ok", "merged", "huisartsen-noord", types=TYPES)
    kept = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])).json()
    merged = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer2"])).json()
    await act(client, staff, f"/api/v1/intakes/{merged['id']}/merge", {"into": kept["id"]})
    base = f"/api/v1/intakes/{kept['id']}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/accept")
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/first-contact", {"at": now_iso()})
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/support-started", {"at": now_iso()})
    await drain(settings, rounds=1)

    # Both referrers hear the first contact (issue 16) and the start of support.
    survivor_steps = ["intake.contacted", "intake.routed", "handoff.offered", "handoff.accepted"]
    steps = [*survivor_steps, "handoff.first_contact", "intake.support_started"]
    heard = receiver.of("merged")
    # Its own referral's receipt and close (as duplicate), then the surviving case's steps.
    # Its own referral's receipt and close (as duplicate), and the surviving case's steps in
    # order (order holds per intake; the two intakes' events may interleave).
    types = [a.body["type"] for a in heard]
    assert sorted(types) == sorted(["intake.received", "intake.closed", *steps])
    assert [t for t in types if t not in ("intake.received", "intake.closed")] == steps
    assert types.index("intake.received") < types.index("intake.closed")
    for arrival in heard:
        data = arrival.body["data"]
        assert data["intakeId"] == merged["id"] and data["reference"] == merged["reference"]
        assert data["url"] == f"http://testserver/api/v1/referrals/{merged['id']}"
        if arrival.body["type"] != "intake.closed":  # its own close names the case it was merged into
            assert kept["id"] not in arrival.raw.decode() and kept["reference"] not in arrival.raw.decode()
        assert (
            await client.get(data["url"].removeprefix("http://testserver"), headers=actors["referrer2"])
        ).status_code == 200
    # The case's own referrer hears it as before, about its own referral.
    own = receiver.of("kept")
    assert [a.body["type"] for a in own] == ["intake.received", *steps]
    assert all(a.body["data"]["intakeId"] == kept["id"] for a in own)

    # Under the surviving case's consents: after its feedback consent is withdrawn, neither hears more.
    intake = (await client.get(base, headers=staff)).json()
    withdraw = f"{base}/consents/{consent_id(intake, 'feedback_to_referrer')}/withdraw"
    await act(client, staff, withdraw, {"at": now_iso()}, expect=201)
    await act(client, staff, f"{base}/close", {"reason": "support_started"})
    await drain(settings, rounds=1)
    assert len(receiver.of("merged")) == len(heard) and len(receiver.of("kept")) == len(own)


async def test_the_referrer_hears_the_coordinator_change_without_personal_data(
    client, settings, receiver, actors
) -> None:
    admin, staff = actors["admin"], actors["staff"]
    await subscribe(client, admin, receiver, "ok", "kept", "verloskundigen-zuid", types=TYPES)
    kept = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])).json()
    base = f"/api/v1/intakes/{kept['id']}"
    coordinator = {"name": "Karin Bakker", "phone": "010 123 4567", "email": "karin@aanmeldpunt.example"}
    r = await client.put(f"{base}/coordinator", json=coordinator, headers=staff)
    assert r.status_code == 200, r.text
    await drain(settings, rounds=1)
    heard = receiver.of("kept")
    assert [a.body["type"] for a in heard] == ["intake.received", "intake.coordinator_changed"]
    for secret in ("Karin", "Bakker", "1234567", "karin@"):
        assert secret not in heard[1].raw.decode()
    # Without feedback consent it is not sent.
    intake = (await client.get(base, headers=staff)).json()
    withdraw = f"{base}/consents/{consent_id(intake, 'feedback_to_referrer')}/withdraw"
    await act(client, staff, withdraw, {"at": now_iso()}, expect=201)
    r = await client.put(f"{base}/coordinator", json={"name": "Iemand Anders"}, headers=staff)
    assert r.status_code == 200, r.text
    await drain(settings, rounds=1)
    assert len(receiver.of("kept")) == 2


async def test_a_wijkteam_that_refers_hears_its_referral_as_a_referrer(client, settings, receiver, actors) -> None:
    """Attacker review (issue 13): the copy was chosen by the organisation's kind, so a wijkteam
    that refers (with `referrals:write`) got the programme copy: an /intakes URL it may not
    read, and for a merged referral the surviving case's id and reference instead of its own."""
    from tests.support.helpers import make_client, token

    admin, staff = actors["admin"], actors["staff"]
    cid, secret = await make_client("wijkteam-rotterdam", "wijkteam", ["referrals:write", "referrals:read"])
    wijkteam = {"Authorization": f"Bearer {await token(client, cid, secret)}"}
    await subscribe(client, admin, receiver, "ok", "wijkteam", "wijkteam-rotterdam", types=TYPES)
    kept = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])).json()
    own = await client.post("/api/v1/referrals", json=referral(), headers=wijkteam)
    assert own.status_code == 201, own.text
    mine = own.json()
    await act(client, staff, f"/api/v1/intakes/{mine['id']}/merge", {"into": kept["id"]})
    await act(
        client, staff, f"/api/v1/intakes/{kept['id']}/contacts", {"at": now_iso(), "channel": "phone", "reached": True}
    )
    await drain(settings, rounds=1)

    heard = receiver.of("wijkteam")
    assert {a.body["type"] for a in heard} >= {"intake.received", "intake.closed", "intake.contacted"}
    for arrival in heard:
        data = arrival.body["data"]
        assert data["intakeId"] == mine["id"] and data["reference"] == mine["reference"]
        assert data["url"] == f"http://testserver/api/v1/referrals/{mine['id']}"
        assert (await client.get(data["url"].removeprefix("http://testserver"), headers=wijkteam)).status_code == 200
