"""The intake lifecycle over HTTP: one referral from receipt to support started, with three
tokens; illegal transitions, If-Match, consent-required, decline and re-route, merge."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app import clock
from app.webhooks.models import Event
from tests.support.helpers import assert_no_personal_data_logged, auth_for, referral, seed_programmes


def now_iso() -> str:
    return clock.now().isoformat()


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    roles = ("referrer", "staff", "mvr", "voorzorg", "stevig", "homestart", "wijkteam", "referrer2")
    return {role: await auth_for(client, role) for role in roles}


async def events_of(db, intake_id: str) -> list[str]:
    rows = await db.scalars(select(Event.type).where(Event.intake_id == intake_id).order_by(Event.seq))
    return list(rows.all())


async def refer(client, actors, **overrides: Any) -> str:
    r = await client.post("/api/v1/referrals", json=referral(**overrides), headers=actors["referrer"])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def act(client, headers, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> dict[str, Any]:
    r = await client.post(path, json=body if body is not None else {}, headers=headers)
    assert r.status_code == expect, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_referral_to_support_started_with_three_tokens(client, db, actors, capsys) -> None:
    referrer, staff, mvr = actors["referrer"], actors["staff"], actors["mvr"]
    intake_id = await refer(client, actors)
    base = f"/api/v1/intakes/{intake_id}"

    async def referrer_sees() -> dict[str, Any]:
        r = await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)
        assert r.status_code == 200
        data: dict[str, Any] = r.json()
        return data

    assert (await referrer_sees())["status"] == "received"
    # Before the handoff the programme cannot see her.
    assert (await client.get(base, headers=mvr)).status_code == 404

    data = await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    assert data["status"] == "contacted"
    assert next(d for d in data["deadlines"] if d["phase"] == "response")["state"] == "met"
    assert (await referrer_sees())["dates"]["contactedAt"] is not None

    data = await act(
        client,
        staff,
        f"{base}/assessment",
        {"visitedAt": now_iso(), "location": "home", "concerns": ["social_isolation"], "notes": "Huisbezoek."},
    )
    assert data["status"] == "assessed"
    assert {"code": "social_isolation", "domain": "social_network", "source": "assessment"} in data["concerns"]
    assert next(d for d in data["deadlines"] if d["phase"] == "intake")["state"] == "met"

    data = await act(client, staff, f"{base}/routing")
    assert data["routing"]["recommendation"]["programme"] == "moeders-van-rotterdam"
    assert data["status"] == "assessed"
    data = await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    assert data["status"] == "routed"
    assert data["routing"]["decision"]["override"] is False

    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    assert handoff["status"] == "offered" and handoff["organisation"] == "moeders-van-rotterdam"
    handoff_path = f"/api/v1/handoffs/{handoff['id']}"
    assert [p["name"] for p in (await referrer_sees())["programmes"]] == ["Moeders van Rotterdam"]

    # The offered organisation reads the intake and its handoff; another programme does not.
    seen = await client.get(base, headers=mvr)
    # Its own view (ProgrammeIntakeView): its handoff, no routing, no duplicates (tests/intakes/test_programme_view.py).
    assert seen.status_code == 200 and [h["status"] for h in seen.json()["handoffs"]] == ["offered"]
    assert "routing" not in seen.json() and "possibleDuplicates" not in seen.json()
    assert (await client.get(base, headers=actors["voorzorg"])).status_code == 404
    assert (await client.post(f"{handoff_path}/accept", json={}, headers=actors["voorzorg"])).status_code == 404
    assert (await client.get(handoff_path, headers=mvr)).status_code == 200

    # Support cannot start before the handoff is accepted.
    await act(client, mvr, f"{handoff_path}/support-started", {"at": now_iso()}, expect=409)
    assert (await act(client, mvr, f"{handoff_path}/accept"))["status"] == "accepted"
    assert (await act(client, mvr, f"{handoff_path}/first-contact", {"at": now_iso()}))["firstContactAt"]
    done = await act(client, mvr, f"{handoff_path}/support-started", {"at": now_iso()})
    assert done["status"] == "support_started"

    data = (await client.get(base, headers=staff)).json()
    assert data["status"] == "support_started"
    assert all(d["state"] == "met" for d in data["deadlines"])
    assert data["nextDeadlineAt"] is None
    view = await referrer_sees()
    assert view["status"] == "support_started" and view["dates"]["supportStartedAt"] is not None

    closed = await act(client, staff, f"{base}/close", {"reason": "support_started"})
    assert closed["status"] == "closed" and closed["closeReason"] == "support_started"
    assert (await referrer_sees())["closeReason"] == "support_started"

    assert await events_of(db, intake_id) == [
        "intake.received",
        "intake.contacted",
        "intake.assessed",
        "intake.routed",
        "handoff.offered",
        "handoff.accepted",
        "handoff.first_contact",
        "intake.support_started",
        "intake.closed",
    ]
    # Every action on the way is in the intake's access log.
    log = await client.get(f"{base}/access-log", headers=staff, params={"limit": 500})
    actions = [row["action"] for row in log.json()["items"]]
    assert actions.count("update") >= 9 and actions[0] == "create"
    assert_no_personal_data_logged(capsys)


async def test_illegal_transitions_are_409(client, actors) -> None:
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await refer(client, actors)}"
    r = await client.post(f"{base}/handoffs", json={}, headers=staff)
    assert r.status_code == 409 and r.json()["type"].endswith("/illegal-transition")
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.post(f"{base}/routing", json={"programme": "voorzorg", "reason": "zie dossier"}, headers=staff)
    assert r.status_code == 409  # deciding needs contact first
    await act(client, staff, f"{base}/close", {"reason": "unreachable"})
    r = await client.post(f"{base}/contacts", json={"at": now_iso(), "channel": "sms", "reached": True}, headers=staff)
    assert r.status_code == 409
    r = await client.post(f"{base}/close", json={"reason": "moved_away"}, headers=staff)
    assert r.status_code == 409


async def test_if_match_stale_is_412(client, actors) -> None:
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await refer(client, actors)}"
    read = await client.get(base, headers=staff)
    tag = read.headers["etag"]
    first = await client.post(
        f"{base}/contacts",
        json={"at": now_iso(), "channel": "phone", "reached": False},
        headers={**staff, "If-Match": tag},
    )
    assert first.status_code == 200 and first.headers["etag"] != tag
    stale = await client.post(
        f"{base}/contacts",
        json={"at": now_iso(), "channel": "phone", "reached": True},
        headers={**staff, "If-Match": tag},
    )
    assert stale.status_code == 412 and stale.json()["type"].endswith("/stale")
    fresh = await client.post(
        f"{base}/contacts",
        json={"at": now_iso(), "channel": "phone", "reached": True},
        headers={**staff, "If-Match": first.headers["etag"]},
    )
    assert fresh.status_code == 200 and fresh.json()["status"] == "contacted"


async def test_offer_without_share_consent_is_consent_required(client, actors) -> None:
    staff = actors["staff"]
    intake_id = await refer(client, actors, **{"consent.scopes": ["processing", "feedback_to_referrer"]})
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    r = await client.post(f"{base}/handoffs", json={}, headers=staff)
    assert r.status_code == 409 and r.json()["type"].endswith("/consent-required")
    # Once she consents, the offer goes through.
    await act(
        client,
        staff,
        f"{base}/consents",
        {"scope": "share_with_programme", "given": True, "obtainedAt": now_iso(), "method": "verbal"},
        expect=201,
    )
    assert (await act(client, staff, f"{base}/handoffs", expect=201))["status"] == "offered"


async def test_override_needs_a_reason_and_decline_reroutes(client, db, actors) -> None:
    staff, wijkteam = actors["staff"], actors["wijkteam"]
    intake_id = await refer(client, actors)
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    r = await client.post(f"{base}/routing", json={"programme": "wijkteam"}, headers=staff)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "reason"
    decided = await act(client, staff, f"{base}/routing", {"programme": "wijkteam", "reason": "Zij kiest dit zelf."})
    assert decided["routing"]["decision"]["override"] is True
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    declined = await act(client, wijkteam, f"/api/v1/handoffs/{handoff['id']}/decline", {"reason": "Geen plek."})
    assert declined["status"] == "declined"
    # The programme that declined loses sight of her at once.
    assert (await client.get(base, headers=wijkteam)).status_code == 404
    data = (await client.get(base, headers=staff)).json()
    assert data["status"] == "assessed"
    rerouted = await act(client, staff, f"{base}/routing")
    excluded = {e["programme"]: e["reasons"] for e in rerouted["routing"]["recommendation"]["excluded"]}
    assert excluded["wijkteam"] == ["declined this intake"]
    r = await client.post(f"{base}/routing", json={"programme": "wijkteam", "reason": "toch"}, headers=staff)
    assert r.status_code == 409 and r.json()["type"].endswith("/programme-excluded")
    assert "handoff.declined" in await events_of(db, intake_id)


async def test_merge_keeps_both_signals(client, actors) -> None:
    staff = actors["staff"]
    first = await refer(client, actors)
    r = await client.post(
        "/api/v1/referrals",
        json=referral(concerns=["domestic_violence"], narrative="Tweede signaal, van de huisarts."),
        headers=actors["referrer2"],
    )
    second = r.json()["id"]
    data = (await client.get(f"/api/v1/intakes/{first}", headers=staff)).json()
    assert data["possibleDuplicates"] == [second]
    merged = await act(client, staff, f"/api/v1/intakes/{second}/merge", {"into": first})
    assert merged["status"] == "closed" and merged["closeReason"] == "duplicate"
    kept = (await client.get(f"/api/v1/intakes/{first}", headers=staff)).json()
    assert "domestic_violence" in {c["code"] for c in kept["concerns"]}
    assert "Tweede signaal" in kept["narrative"]
    assert kept["possibleDuplicates"] == []
    # The second referrer follows the case it was merged into (issue 16), not "duplicate".
    view = (await client.get(f"/api/v1/referrals/{second}", headers=actors["referrer2"])).json()
    assert view["id"] == second and view["status"] == "received" and view["closeReason"] is None
    r = await client.post(f"/api/v1/intakes/{first}/merge", json={"into": first}, headers=staff)
    assert r.status_code == 400


async def test_due_date_correction_recomputes_and_loosening_needs_reason(client, actors) -> None:
    staff = actors["staff"]
    # 30 weeks pregnant: the strict row. Correcting to 12 weeks would loosen the deadlines.
    from datetime import timedelta

    from tests.support.helpers import today

    near = (today() + timedelta(days=70)).isoformat()
    far = (today() + timedelta(days=196)).isoformat()
    base = f"/api/v1/intakes/{await refer(client, actors, **{'pregnancy.dueDate': near})}"
    before = (await client.get(base, headers=staff)).json()["deadlines"]
    body = {"pregnancy": {"pregnant": True, "dueDate": far, "firstChild": True}}
    r = await client.patch(base, json=body, headers=staff)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "reason"
    r = await client.patch(base, json={**body, "reason": "Termijnecho: later uitgerekend."}, headers=staff)
    assert r.status_code == 200, r.text
    after = r.json()["deadlines"]
    assert [a["dueAt"] > b["dueAt"] for a, b in zip(after, before, strict=True)] == [True, True, True]
    # Tightening back needs no reason.
    r = await client.patch(base, json={"pregnancy": {"pregnant": True, "dueDate": near}}, headers=staff)
    assert r.status_code == 200 and r.json()["deadlines"] == before
