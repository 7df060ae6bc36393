"""The referrer's loop (issue 16): one shape of the referrer's view in every answer, every
date when its step happens, the list of one's own referrals, consent withdrawal shrinking
every answer, and a merged referral following the case it was merged into."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AccessLogEntry
from app.auth.models import Organisation
from app.routing.models import Programme
from tests.consent.test_consent_flow import consent_id
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, referral, seed_programmes

VIEW_KEYS = {
    "id",
    "reference",
    "receivedAt",
    "status",
    "feedback",
    "programmes",
    "contactPerson",
    "dates",
    "closeReason",
}
DATE_KEYS = {
    "contactedAt",
    "assessedAt",
    "routedAt",
    "handedOffAt",
    "firstContactAt",
    "supportStartedAt",
    "closedAt",
}


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    return {role: await auth_for(client, role) for role in ("referrer", "referrer2", "staff", "mvr", "wijkteam")}


def shape(value: Any) -> Any:
    """The key structure of an answer (keys of objects, recursively; lists by their first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


async def listed(client, headers: dict[str, str], intake_id: str, **query: str) -> dict[str, Any] | None:
    r = await client.get("/api/v1/referrals", params={"limit": "200", **query}, headers=headers)
    assert r.status_code == 200, r.text
    return next((i for i in r.json()["items"] if i["id"] == intake_id), None)


async def three_answers(client, actors, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    posted = await client.post("/api/v1/referrals", json=referral(**overrides), headers=actors["referrer"])
    assert posted.status_code == 201, posted.text
    intake_id = posted.json()["id"]
    got = await client.get(f"/api/v1/referrals/{intake_id}", headers=actors["referrer"])
    item = await listed(client, actors["referrer"], intake_id)
    assert item is not None
    return posted.json(), got.json(), item


async def test_one_shape_in_post_get_and_list(client, actors) -> None:
    for overrides in ({}, {"consent.scopes": ["processing"]}):
        posted, got, item = await three_answers(client, actors, **overrides)
        assert set(posted) == set(got) == set(item) == VIEW_KEYS
        assert set(posted["dates"]) == set(got["dates"]) == set(item["dates"]) == DATE_KEYS
        assert posted == got == item  # nothing happened in between: the same answer three times
    # With a programme and a date filled, still the same keys (down to the programme rows).
    staff = actors["staff"]
    posted, _, _ = await three_answers(client, actors)
    base = f"/api/v1/intakes/{posted['id']}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    await act(client, staff, f"{base}/handoffs", expect=201)
    got = (await client.get(f"/api/v1/referrals/{posted['id']}", headers=actors["referrer"])).json()
    item = await listed(client, actors["referrer"], posted["id"])
    assert shape(got) == shape(item)
    assert set(got["programmes"][0]) == {"name", "status", "firstContactAt", "supportStartedAt"}
    assert set(got) == set(posted) and set(got["dates"]) == set(posted["dates"])


async def test_every_date_appears_when_its_step_happens(client, actors) -> None:
    staff, mvr, referrer = actors["staff"], actors["mvr"], actors["referrer"]
    posted = (await client.post("/api/v1/referrals", json=referral(), headers=referrer)).json()
    intake_id = posted["id"]
    base = f"/api/v1/intakes/{intake_id}"
    assert posted["dates"] == dict.fromkeys(DATE_KEYS) and posted["programmes"] == []

    async def filled() -> set[str]:
        view = (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).json()
        item = await listed(client, referrer, intake_id)
        assert item == view
        return {k for k, v in view["dates"].items() if v is not None}

    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": False})
    assert await filled() == set()  # not reached: not contacted
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    assert await filled() == {"contactedAt"}
    await act(client, staff, f"{base}/assessment", {"visitedAt": now_iso(), "location": "home"})
    assert await filled() == {"contactedAt", "assessedAt"}
    await act(client, staff, f"{base}/routing", {})  # a recommendation is not a routing decision
    assert await filled() == {"contactedAt", "assessedAt"}
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    assert await filled() == {"contactedAt", "assessedAt", "routedAt"}
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    assert await filled() == {"contactedAt", "assessedAt", "routedAt", "handedOffAt"}
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/accept")
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/first-contact", {"at": now_iso()})
    assert await filled() == {"contactedAt", "assessedAt", "routedAt", "handedOffAt", "firstContactAt"}
    view = (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).json()
    assert view["programmes"][0]["firstContactAt"] == view["dates"]["firstContactAt"]
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/support-started", {"at": now_iso()})
    assert await filled() == DATE_KEYS - {"closedAt"}
    view = (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).json()
    assert view["status"] == "support_started"
    assert view["programmes"] == [
        {
            "name": "Moeders van Rotterdam",
            "status": "support_started",
            "firstContactAt": view["dates"]["firstContactAt"],
            "supportStartedAt": view["dates"]["supportStartedAt"],
        }
    ]
    await act(client, staff, f"{base}/close", {"reason": "support_started"})
    assert await filled() == DATE_KEYS
    view = (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).json()
    assert view["status"] == "closed" and view["closeReason"] == "support_started"


async def test_consent_withdrawal_shrinks_every_answer(client, actors) -> None:
    staff, referrer = actors["staff"], actors["referrer"]
    # Received without feedback consent: the POST answer itself is the small one.
    small, got, item = await three_answers(client, actors, **{"consent.scopes": ["processing"]})
    assert small == got == item
    assert small["status"] == "received" and small["feedback"] is False
    assert small["programmes"] == [] and small["contactPerson"] is None and small["closeReason"] is None
    assert small["dates"] == dict.fromkeys(DATE_KEYS)
    # Given, then withdrawn: GET and the list shrink at once, and the filter follows the view.
    posted, _, _ = await three_answers(client, actors)
    base = f"/api/v1/intakes/{posted['id']}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    await act(client, staff, f"{base}/handoffs", expect=201)
    assert (await listed(client, referrer, posted["id"], status="handed_off")) is not None
    intake = (await client.get(base, headers=staff)).json()
    withdraw = f"{base}/consents/{consent_id(intake, 'feedback_to_referrer')}/withdraw"
    await act(client, staff, withdraw, {"at": now_iso()}, expect=201)
    got = (await client.get(f"/api/v1/referrals/{posted['id']}", headers=referrer)).json()
    item = await listed(client, referrer, posted["id"])
    expected = {**posted, "status": "received", "feedback": False}
    assert got == item == expected
    assert (await listed(client, referrer, posted["id"], status="handed_off")) is None
    assert (await listed(client, referrer, posted["id"], status="received")) == expected


async def test_list_is_own_newest_first_paginated_and_audited(client, db, actors) -> None:
    mine = [
        (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])).json()["id"]
        for _ in range(3)
    ]
    theirs = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer2"])).json()["id"]
    before = await db.scalar(select(func.count()).select_from(AccessLogEntry).where(AccessLogEntry.action == "search"))
    first = await client.get("/api/v1/referrals", params={"limit": "2"}, headers=actors["referrer"])
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["id"] for i in page["items"]] == [mine[2], mine[1]] and page["nextCursor"]
    query = {"limit": "2", "cursor": page["nextCursor"]}
    second = (await client.get("/api/v1/referrals", params=query, headers=actors["referrer"])).json()
    assert [i["id"] for i in second["items"]] == [mine[0]] and second["nextCursor"] is None
    # One access-log row per listed intake, with the basis of what was shown.
    rows = (
        await db.execute(
            select(AccessLogEntry.intake_id, AccessLogEntry.basis).where(AccessLogEntry.action == "search")
        )
    ).all()
    assert len(rows) - before == 3
    assert sorted(str(r[0]) for r in rows[-3:]) == sorted(mine)
    assert {r[1] for r in rows[-3:]} == {"feedback_to_referrer"}
    # The other organisation sees only its own.
    other = (await client.get("/api/v1/referrals", headers=actors["referrer2"])).json()
    assert [i["id"] for i in other["items"]] == [theirs]
    # Filters and cursors are checked.
    assert (await client.get("/api/v1/referrals?status=duplicate", headers=actors["referrer"])).status_code == 400
    assert (await client.get("/api/v1/referrals?cursor=nope", headers=actors["referrer"])).status_code == 400
    assert (await client.get("/api/v1/referrals", headers=actors["staff"])).status_code == 403


async def test_merged_referral_follows_the_surviving_case(client, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    kept = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])).json()
    merged = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer2"])).json()
    await act(client, staff, f"/api/v1/intakes/{merged['id']}/merge", {"into": kept["id"]})
    base = f"/api/v1/intakes/{kept['id']}"

    async def follower() -> dict[str, Any]:
        r = await client.get(f"/api/v1/referrals/{merged['id']}", headers=actors["referrer2"])
        assert r.status_code == 200, r.text
        item = await listed(client, actors["referrer2"], merged["id"])
        assert item == r.json()
        data: dict[str, Any] = r.json()
        return data

    view = await follower()
    # Its own id, reference and receipt; the surviving case's progress (open, not "duplicate").
    assert (view["id"], view["reference"], view["receivedAt"]) == (
        merged["id"],
        merged["reference"],
        merged["receivedAt"],
    )
    assert view["status"] == "received" and view["closeReason"] is None and view["dates"]["closedAt"] is None
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/accept")
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/first-contact", {"at": now_iso()})
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/support-started", {"at": now_iso()})
    view = await follower()
    assert view["status"] == "support_started" and view["feedback"] is True
    assert view["programmes"][0]["name"] == "Moeders van Rotterdam"
    assert view["dates"]["supportStartedAt"] is not None and view["dates"]["contactedAt"] is not None
    survivor = (await client.get(f"/api/v1/referrals/{kept['id']}", headers=actors["referrer"])).json()
    own = {"id": merged["id"], "reference": merged["reference"], "receivedAt": merged["receivedAt"]}
    assert view == {**survivor, **own}
    # Under the surviving case's consents: its withdrawal shrinks the follower's view too.
    intake = (await client.get(base, headers=staff)).json()
    withdraw = f"{base}/consents/{consent_id(intake, 'feedback_to_referrer')}/withdraw"
    await act(client, staff, withdraw, {"at": now_iso()}, expect=201)
    view = await follower()
    assert view["status"] == "received" and view["feedback"] is False and view["programmes"] == []


async def test_contact_person_is_the_coordinator(client, db, actors) -> None:
    staff, mvr, referrer = actors["staff"], actors["mvr"], actors["referrer"]
    posted = (await client.post("/api/v1/referrals", json=referral(), headers=referrer)).json()
    assert posted["contactPerson"] is None
    base = f"/api/v1/intakes/{posted['id']}"
    coordinator = {"name": "Karin Bakker", "phone": "010 123 4567", "email": "karin@aanmeldpunt.example"}
    r = await client.put(f"{base}/coordinator", json=coordinator, headers=staff)
    assert r.status_code == 200, r.text
    hub = await db.scalar(select(Organisation.name).where(Organisation.code == "aanmeldpunt-rotterdam"))
    expected = {"name": "Karin Bakker", "phone": "+31101234567", "organisation": hub}
    got = (await client.get(f"/api/v1/referrals/{posted['id']}", headers=referrer)).json()
    assert got["contactPerson"] == expected and await listed(client, referrer, posted["id"]) == got
    # The coach of an accepted handoff takes over: the referrer's one person to call follows.
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/accept")
    r = await client.put(f"{base}/coordinator", json={"name": "Coach Fatima", "phone": "0612345678"}, headers=mvr)
    assert r.status_code == 200, r.text
    got = (await client.get(f"/api/v1/referrals/{posted['id']}", headers=referrer)).json()
    coach = await db.scalar(select(Organisation.name).where(Organisation.code == "moeders-van-rotterdam"))
    assert got["contactPerson"] == {"name": "Coach Fatima", "phone": "+31612345678", "organisation": coach}
    # A merged referral's referrer gets the same person to call; without feedback consent, nobody.
    merged = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer2"])).json()
    await act(client, staff, f"/api/v1/intakes/{merged['id']}/merge", {"into": posted["id"]})
    follower = (await client.get(f"/api/v1/referrals/{merged['id']}", headers=actors["referrer2"])).json()
    assert follower["contactPerson"] == got["contactPerson"]
    intake = (await client.get(base, headers=staff)).json()
    withdraw = f"{base}/consents/{consent_id(intake, 'feedback_to_referrer')}/withdraw"
    await act(client, staff, withdraw, {"at": now_iso()}, expect=201)
    for headers, intake_id in ((referrer, posted["id"]), (actors["referrer2"], merged["id"])):
        assert (await client.get(f"/api/v1/referrals/{intake_id}", headers=headers)).json()["contactPerson"] is None


async def test_several_programmes_each_with_its_own_state(client, db, actors) -> None:
    staff, mvr, wijkteam, referrer = actors["staff"], actors["mvr"], actors["wijkteam"], actors["referrer"]
    intake_id = (await client.post("/api/v1/referrals", json=referral(), headers=referrer)).json()["id"]
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    first = await act(client, staff, f"{base}/handoffs", expect=201)
    second = await act(client, staff, f"{base}/handoffs", {"programme": "wijkteam"}, expect=201)
    names = dict(
        (await db.execute(select(Programme.code, Programme.name).where(Programme.region == "rotterdam"))).all()
    )

    async def programmes() -> list[tuple[str, str, bool, bool]]:
        view = (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).json()
        assert await listed(client, referrer, intake_id) == view
        return [
            (p["name"], p["status"], bool(p["firstContactAt"]), bool(p["supportStartedAt"])) for p in view["programmes"]
        ]

    mvr_name, wijkteam_name = names["moeders-van-rotterdam"], names["wijkteam"]
    assert await programmes() == [(mvr_name, "offered", False, False), (wijkteam_name, "offered", False, False)]
    await act(client, wijkteam, f"/api/v1/handoffs/{second['id']}/accept")
    await act(client, wijkteam, f"/api/v1/handoffs/{second['id']}/first-contact", {"at": now_iso()})
    assert await programmes() == [(mvr_name, "offered", False, False), (wijkteam_name, "first_contact", True, False)]
    # A declined offer is a routing attempt, not support she gets: the referrer does not see it.
    await act(client, mvr, f"/api/v1/handoffs/{first['id']}/decline", {"reason": "Geen plek op dit moment."})
    assert await programmes() == [(wijkteam_name, "first_contact", True, False)]
    await act(client, wijkteam, f"/api/v1/handoffs/{second['id']}/support-started", {"at": now_iso()})
    await act(client, wijkteam, f"/api/v1/handoffs/{second['id']}/end", {"at": now_iso(), "reason": "completed"})
    view = (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).json()
    assert [(p["name"], p["status"]) for p in view["programmes"]] == [(wijkteam_name, "ended")]
    assert view["dates"]["supportStartedAt"] == view["programmes"][0]["supportStartedAt"]
    # The dates follow the programmes shown: the handoff is the offer to the wijkteam.
    wijkteam_offer = (await client.get(base, headers=staff)).json()["handoffs"][1]["offeredAt"]
    assert view["dates"]["handedOffAt"] == wijkteam_offer
