"""Several supports at once, over HTTP with real tokens: two handoffs live side by side, each
with its own machine and support-start moment; a decline of one leaves the other going; the
intake's status derives from its handoffs; the end of support; 409 for illegal steps;
consent withdrawal revokes them all; who hears which event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app import clock
from app.handoffs.models import Handoff
from app.jobs import retention
from app.statistics.models import IntakeFacts
from app.webhooks.models import Event
from tests.intakes.test_lifecycle import act, events_of, now_iso, refer
from tests.support.helpers import auth_for, seed_programmes
from tests.support.receiver import Receiver, start
from tests.webhooks.test_webhooks import ALL, drain, subscribe

MVR, WIJKTEAM = "moeders-van-rotterdam", "wijkteam"
DECLINE_REASON = "Wij hebben op dit moment geen plek in haar wijk."


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = start(r)
    yield r
    server.shutdown()


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    roles = ("referrer", "staff", "mvr", "wijkteam", "voorzorg", "admin")
    return {role: await auth_for(client, role) for role in roles}


async def routed(client, actors, **overrides: Any) -> str:
    """An intake contacted and decided for Moeders van Rotterdam; its path."""
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await refer(client, actors, **overrides)}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": MVR})
    return base


async def two_live(client, actors) -> tuple[str, dict[str, Any], dict[str, Any]]:
    staff = actors["staff"]
    base = await routed(client, actors)
    first = await act(client, staff, f"{base}/handoffs", expect=201)  # the decided one
    second = await act(
        client, staff, f"{base}/handoffs", {"programme": WIJKTEAM, "reason": "Schulden en huisvesting."}, 201
    )
    return base, first, second


async def intake(client, actors, base: str) -> dict[str, Any]:
    r = await client.get(base, headers=actors["staff"])
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def path(handoff: dict[str, Any], step: str = "") -> str:
    return f"/api/v1/handoffs/{handoff['id']}" + (f"/{step}" if step else "")


async def test_two_supports_side_by_side_one_declines_the_other_starts_and_ends(client, db, actors) -> None:
    staff, mvr, wijkteam = actors["staff"], actors["mvr"], actors["wijkteam"]
    base, first, second = await two_live(client, actors)
    assert (first["programme"], first["organisation"], first["status"]) == (MVR, MVR, "offered")
    assert (second["programme"], second["organisation"]) == (WIJKTEAM, "wijkteam-rotterdam")
    assert second["status"] == "offered"
    assert second["offerReason"] == "Schulden en huisvesting."
    # Each has its own support-start moment, counted from its offer (not from receipt).
    assert first["supportStartDueAt"] and second["supportStartDueAt"]
    assert datetime.fromisoformat(second["supportStartDueAt"]) > clock.now()
    data = await intake(client, actors, base)
    assert data["status"] == "handed_off"
    assert [(h["programme"], h["status"]) for h in data["handoffs"]] == [(MVR, "offered"), (WIJKTEAM, "offered")]

    # Each programme reads the intake, and sees only its own handoff.
    for who, mine in ((mvr, first), (wijkteam, second)):
        seen = (await client.get(base, headers=who)).json()
        assert [h["id"] for h in seen["handoffs"]] == [mine["id"]]
    # The other programme's handoff is not theirs: 404, as if it did not exist.
    assert (await client.get(path(second), headers=mvr)).status_code == 404
    assert (await client.post(path(second, "accept"), json={}, headers=mvr)).status_code == 404

    # Moeders van Rotterdam declines; the wijkteam's handoff goes on, the intake stays handed off.
    declined = await act(client, mvr, path(first, "decline"), {"reason": DECLINE_REASON})
    assert declined["status"] == "declined" and declined["declineReason"] == DECLINE_REASON
    data = await intake(client, actors, base)
    assert data["status"] == "handed_off"
    assert [h["status"] for h in data["handoffs"]] == ["declined", "offered"]
    assert (await client.get(base, headers=mvr)).status_code == 404
    # The wijkteam never sees the other programme's decline (nor its reason).
    seen = await client.get(base, headers=wijkteam)
    assert seen.status_code == 200 and DECLINE_REASON not in seen.text and MVR not in seen.text
    as_programme = (await client.get(path(second), headers=wijkteam)).json()
    assert as_programme["offerReason"] is None and as_programme["supportStartDueAt"] == second["supportStartDueAt"]
    assert DECLINE_REASON not in str(as_programme)

    assert (await act(client, wijkteam, path(second, "accept")))["status"] == "accepted"
    contact = await act(client, wijkteam, path(second, "first-contact"), {"at": now_iso()})
    assert contact["status"] == "first_contact" and contact["firstContactAt"]
    assert (await intake(client, actors, base))["status"] == "handed_off"
    started = await act(client, wijkteam, path(second, "support-started"), {"at": now_iso()})
    assert started["status"] == "support_started"
    data = await intake(client, actors, base)
    assert data["status"] == "support_started"
    # The intake's support-start deadline is met by the first start.
    assert next(d for d in data["deadlines"] if d["phase"] == "support_start")["state"] == "met"

    # The case file: the wijkteam sees its own handoff's steps, not the other programme's decline.
    own = (await client.get(f"{base}/timeline", headers=wijkteam, params={"limit": 100})).json()["items"]
    assert DECLINE_REASON not in str(own) and "handoff_declined" not in [e["type"] for e in own]
    assert {"handoff_accepted", "handoff_first_contact", "handoff_support_started"} <= {e["type"] for e in own}

    ended = await act(
        client, wijkteam, path(second, "end"), {"at": now_iso(), "reason": "completed", "note": "Doelen behaald."}
    )
    assert (ended["status"], ended["endReason"], ended["endNote"]) == ("ended", "completed", "Doelen behaald.")
    assert ended["endedAt"]
    data = await intake(client, actors, base)
    assert data["status"] == "support_started"  # support did start; staff close the case
    assert [h["status"] for h in data["handoffs"]] == ["declined", "ended"]
    timeline = (await client.get(f"{base}/timeline", headers=staff, params={"limit": 100})).json()["items"]
    entry = next(e for e in timeline if e["type"] == "handoff_ended")
    assert entry["details"]["reason"] == "completed" and entry["details"]["handoffId"] == second["id"]
    assert [e["type"] for e in timeline].count("handoff_offered") == 2
    # An ended handoff is no longer the programme's to read.
    assert (await client.get(base, headers=wijkteam)).status_code == 404
    assert (await client.get(path(second), headers=wijkteam)).status_code == 404

    assert await events_of(db, base.rsplit("/", 1)[1]) == [
        "intake.received",
        "intake.contacted",
        "intake.routed",
        "handoff.offered",
        "handoff.offered",
        "handoff.declined",
        "handoff.accepted",
        "handoff.first_contact",
        "intake.support_started",
        "handoff.ended",
    ]
    rows = (await db.scalars(select(Event).where(Event.type.in_(("handoff.first_contact", "handoff.ended"))))).all()
    for event in rows:
        assert event.data["handoffId"] == second["id"] and event.data["programme"] == WIJKTEAM
        assert "Doelen" not in str(event.data)  # no free text in events
    assert next(e for e in rows if e.type == "handoff.ended").data["endReason"] == "completed"

    # The statistics facts count both programmes in the stages they reached.
    facts = await db.scalar(select(IntakeFacts).where(IntakeFacts.intake_id == base.rsplit("/", 1)[1]))
    assert sorted(facts.programmes_offered) == [MVR, WIJKTEAM]
    assert facts.programmes_declined == [MVR]
    assert facts.programmes_accepted == [WIJKTEAM]
    assert facts.programmes_started == [WIJKTEAM]


async def test_illegal_steps_are_409_problems(client, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    base, first, _ = await two_live(client, actors)

    async def refused(step: str, body: dict[str, Any] | None = None, who: dict[str, str] = mvr) -> None:
        r = await client.post(path(first, step), json=body or {}, headers=who)
        assert r.status_code == 409, (step, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("/illegal-transition")

    await refused("first-contact", {"at": now_iso()})
    await refused("support-started", {"at": now_iso()})
    await refused("end", {"at": now_iso(), "reason": "completed"})
    await act(client, mvr, path(first, "accept"))
    await refused("accept")
    await refused("support-started", {"at": now_iso()})  # first contact comes first
    await act(client, mvr, path(first, "first-contact"), {"at": now_iso()})
    await refused("first-contact", {"at": now_iso()})
    await refused("decline", {"reason": DECLINE_REASON})  # after contact: start support, or staff revoke
    await refused("end", {"at": now_iso(), "reason": "completed"})
    await act(client, mvr, path(first, "support-started"), {"at": now_iso()})
    await refused("support-started", {"at": now_iso()})
    # Invalid bodies are 400 with every field named.
    r = await client.post(path(first, "end"), json={"reason": "bored"}, headers=mvr)
    assert r.status_code == 400
    assert {p["name"] for p in r.json()["invalidParams"]} >= {"at", "reason"}
    r = await client.post(path(first, "end"), json={"at": "2020-01-01T10:00:00+01:00", "reason": "other"}, headers=mvr)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "at"  # before support started
    # One live handoff per programme.
    r = await client.post(f"{base}/handoffs", json={"programme": WIJKTEAM}, headers=staff)
    assert r.status_code == 409 and r.json()["type"].endswith("/handoff-live")
    r = await client.post(f"{base}/handoffs", json={}, headers=staff)  # the decided one, live already
    assert r.status_code == 409 and r.json()["type"].endswith("/handoff-live")
    r = await client.post(f"{base}/handoffs", json={"programme": "bestaat-niet"}, headers=staff)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "programme"


async def test_offer_honours_if_match_and_refuses_a_declined_programme(client, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    base = await routed(client, actors)
    r = await client.get(base, headers=staff)
    stale = r.headers["ETag"]
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "sms", "reached": False})
    r = await client.post(f"{base}/handoffs", json={}, headers={**staff, "If-Match": stale})
    assert r.status_code == 412
    fresh = (await client.get(base, headers=staff)).headers["ETag"]
    first = await client.post(f"{base}/handoffs", json={}, headers={**staff, "If-Match": fresh})
    assert first.status_code == 201 and first.headers["Location"] == f"/api/v1/handoffs/{first.json()['id']}"
    await act(client, mvr, path(first.json(), "decline"), {"reason": DECLINE_REASON})
    # The last live one declined: the intake returns to the aanmeldpunt, that programme excluded.
    data = await intake(client, actors, base)
    assert data["status"] == "assessed" and data["routing"]["decision"]["programme"] == MVR
    r = await client.post(f"{base}/handoffs", json={}, headers=staff)
    assert r.status_code == 409  # nothing decided any more
    r = await client.post(f"{base}/handoffs", json={"programme": MVR}, headers=staff)
    assert r.status_code == 409  # needs routing again first (status assessed)
    await act(client, staff, f"{base}/routing", {"programme": WIJKTEAM, "reason": "MvR heeft geen plek."})
    r = await client.post(f"{base}/handoffs", json={"programme": MVR}, headers=staff)
    assert r.status_code == 409 and r.json()["type"].endswith("/programme-excluded")
    assert (await act(client, staff, f"{base}/handoffs", expect=201))["programme"] == WIJKTEAM


async def test_consent_withdrawal_revokes_every_live_handoff(client, db, actors) -> None:
    staff, mvr, wijkteam = actors["staff"], actors["mvr"], actors["wijkteam"]
    base, first, second = await two_live(client, actors)
    await act(client, wijkteam, path(second, "accept"))
    await act(client, wijkteam, path(second, "first-contact"), {"at": now_iso()})
    consents = (await client.get(f"{base}/consents", headers=staff)).json()["items"]
    share = next(c for c in consents if c["scope"] == "share_with_programme")
    await act(client, staff, f"{base}/consents/{share['id']}/withdraw", {"at": now_iso()}, expect=201)
    data = await intake(client, actors, base)
    assert [h["status"] for h in data["handoffs"]] == ["revoked", "revoked"]
    assert all(h["revokedAt"] for h in data["handoffs"])
    assert data["status"] == "assessed"  # nothing live, nothing started: back with the aanmeldpunt
    for who, mine in ((mvr, first), (wijkteam, second)):
        assert (await client.get(base, headers=who)).status_code == 404
        assert (await client.get(path(mine), headers=who)).status_code == 404
    revoked = (await db.scalars(select(Event).where(Event.type == "handoff.revoked").order_by(Event.seq))).all()
    assert sorted(e.data["handoffId"] for e in revoked) == sorted([first["id"], second["id"]])
    assert {e.data["reason"] for e in revoked} == {"share_withdrawn"}


async def test_consent_withdrawal_after_a_start_keeps_the_intake_started(client, actors) -> None:
    staff, mvr, wijkteam = actors["staff"], actors["mvr"], actors["wijkteam"]
    base, first, _ = await two_live(client, actors)
    for step, body in (("accept", None), ("first-contact", {"at": now_iso()}), ("support-started", {"at": now_iso()})):
        await act(client, mvr, path(first, step), body)
    consents = (await client.get(f"{base}/consents", headers=staff)).json()["items"]
    share = next(c for c in consents if c["scope"] == "share_with_programme")
    await act(client, staff, f"{base}/consents/{share['id']}/withdraw", {"at": now_iso()}, expect=201)
    data = await intake(client, actors, base)
    assert [h["status"] for h in data["handoffs"]] == ["revoked", "revoked"]
    assert data["status"] == "support_started"
    assert (await client.get(base, headers=wijkteam)).status_code == 404


async def test_each_audience_hears_its_own_handoffs_events(client, settings, actors, receiver) -> None:
    admin, mvr, wijkteam = actors["admin"], actors["mvr"], actors["wijkteam"]
    await subscribe(client, admin, receiver, "ok", "mvr", MVR, types=ALL)
    await subscribe(client, admin, receiver, "ok", "wijkteam", "wijkteam-rotterdam", types=ALL)
    await subscribe(client, admin, receiver, "ok", "referrer", "verloskundigen-zuid", types=ALL)
    await subscribe(client, admin, receiver, "ok", "staff", "aanmeldpunt-rotterdam", types=ALL)
    # Delivered after each step: the audience is checked again at delivery, with the handoff as it is then.
    _, first, second = await two_live(client, actors)
    await drain(settings, rounds=1)
    for who, handoff, step, body in (
        (mvr, first, "decline", {"reason": DECLINE_REASON}),
        (wijkteam, second, "accept", None),
        (wijkteam, second, "first-contact", {"at": now_iso()}),
        (wijkteam, second, "support-started", {"at": now_iso()}),
        (wijkteam, second, "end", {"at": now_iso(), "reason": "moved_away"}),
    ):
        await act(client, who, path(handoff, step), body)
        await drain(settings, rounds=1)

    def heard(name: str) -> list[tuple[str, str | None]]:
        return [(a.body["type"], a.body["data"].get("handoffId")) for a in receiver.of(name)]

    one, two = first["id"], second["id"]
    # Each programme hears only its own handoff (a decline or end as the notice of its lost access).
    assert heard("mvr") == [("handoff.offered", one), ("handoff.declined", one)]
    assert heard("wijkteam") == [
        ("handoff.offered", two),
        ("handoff.accepted", two),
        ("handoff.first_contact", two),
        ("intake.support_started", two),
        ("handoff.ended", two),
    ]
    # The referrer follows (feedback_to_referrer), first contact included; the aanmeldpunt hears all.
    assert ("handoff.first_contact", two) in heard("referrer")
    assert [t for t, _ in heard("staff")].count("handoff.offered") == 2
    for name in ("mvr", "wijkteam", "referrer", "staff"):
        for attempt in receiver.of(name):
            assert DECLINE_REASON not in str(attempt.body) and "Jansen" not in str(attempt.body)


async def test_erasure_empties_the_handoffs_free_text_and_keeps_the_codes(client, db, actors) -> None:
    staff, mvr, wijkteam = actors["staff"], actors["mvr"], actors["wijkteam"]
    base, first, second = await two_live(client, actors)
    await act(client, mvr, path(first, "decline"), {"reason": DECLINE_REASON})
    for step, body in (("accept", None), ("first-contact", {"at": now_iso()}), ("support-started", {"at": now_iso()})):
        await act(client, wijkteam, path(second, step), body)
    end = {"at": now_iso(), "reason": "stopped_by_client", "note": "Verhuisd."}
    await act(client, wijkteam, path(second, "end"), end)
    await act(client, staff, f"{base}/close", {"reason": "support_started"})
    assert await retention.erase_due(db, datetime(2100, 1, 1, tzinfo=UTC)) == 1
    await db.commit()
    rows = (await db.scalars(select(Handoff).where(Handoff.intake_id == base.rsplit("/", 1)[1]))).all()
    by_programme = {h.programme: h for h in rows}
    assert {h.offer_reason for h in rows} == {None}  # staff's free text
    assert by_programme[MVR].decline_reason is None
    assert by_programme[WIJKTEAM].end_note is None
    # The codes statistics rest on stay: states and the end reason.
    assert (by_programme[MVR].status, by_programme[WIJKTEAM].status) == ("declined", "ended")
    assert by_programme[WIJKTEAM].end_reason == "stopped_by_client"
