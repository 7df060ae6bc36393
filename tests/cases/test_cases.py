"""The case (issue 15): coordinator, involvements, joint intake, case meetings and agreements,
notes, the case file — over real HTTP with real tokens and the real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app import clock
from app.db import session_factory
from app.jobs import monitor
from app.webhooks.models import Event
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, referral, seed_programmes, self_registration, today

ROLES = ("referrer", "referrer2", "staff", "mvr", "voorzorg", "wijkteam")


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    return {role: await auth_for(client, role) for role in ROLES}


async def new_case(client, actors, **overrides: Any) -> str:
    r = await client.post("/api/v1/referrals", json=referral(**overrides), headers=actors["referrer"])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def put(client, headers, path: str, body: dict[str, Any], expect: int = 200, **extra: str) -> Any:
    r = await client.put(path, json=body, headers={**headers, **extra})
    assert r.status_code == expect, r.text
    return r


async def offered_to_mvr(client, actors, intake_id: str) -> str:
    staff, base = actors["staff"], f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    return str((await act(client, staff, f"{base}/handoffs", expect=201))["id"])


async def test_coordinator_shown_filtered_and_taken_over(client, db, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    intake_id = await new_case(client, actors)
    other = await new_case(client, actors, **{"client.bsn": "111222333", "client.familyName": "Bakker"})
    base = f"/api/v1/intakes/{intake_id}"
    before = await client.get(base, headers=staff)
    assert before.json()["coordinator"] is None
    r = await put(
        client,
        staff,
        f"{base}/coordinator",
        {"name": "Karin Bakker", "phone": "010 123 4567", "email": "karin@aanmeldpunt.example", "userId": "k.bakker"},
    )
    assert r.json()["organisation"] == "aanmeldpunt-rotterdam" and r.json()["phone"] == "+31101234567"
    assert r.headers["ETag"] != before.headers["ETag"]
    shown = (await client.get(base, headers=staff)).json()["coordinator"]
    assert shown["name"] == "Karin Bakker" and shown["since"].endswith("Z")
    # A stale If-Match is 412; the worklist finds cases per coordinator, and those without one.
    await put(client, staff, f"{base}/coordinator", {"name": "X"}, 412, **{"If-Match": before.headers["ETag"]})
    mine = (await client.get("/api/v1/intakes", params={"coordinator": "k.bakker"}, headers=staff)).json()["items"]
    assert [i["id"] for i in mine] == [intake_id]
    none = (await client.get("/api/v1/intakes", params={"coordinator": "none"}, headers=staff)).json()["items"]
    assert [i["id"] for i in none] == [other]
    # The programme of an offered handoff may not take over; once accepted it may.
    handoff = await offered_to_mvr(client, actors, intake_id)
    r = await client.put(f"{base}/coordinator", json={"name": "Coach Fatima"}, headers=mvr)
    assert r.status_code == 409 and r.json()["type"].endswith("/illegal-transition"), r.text
    await act(client, mvr, f"/api/v1/handoffs/{handoff}/accept")
    r = await put(client, mvr, f"{base}/coordinator", {"name": "Coach Fatima", "phone": "0612345678"})
    assert r.json()["organisation"] == "moeders-van-rotterdam"
    assert (await client.get(base, headers=staff)).json()["coordinator"]["name"] == "Coach Fatima"
    # The programme sees the one person to call on its own view of the intake.
    assert (await client.get(base, headers=mvr)).json()["coordinator"]["organisation"] == "moeders-van-rotterdam"
    assert (await client.get("/api/v1/intakes", params={"coordinator": "k.bakker"}, headers=staff)).json()[
        "items"
    ] == []
    # A foreign programme gets 404; history stays: two assignments, one current.
    r = await client.put(f"{base}/coordinator", json={"name": "Y"}, headers=actors["voorzorg"])
    assert r.status_code == 404
    rows = (await db.execute(text("SELECT until FROM case_coordinators WHERE intake_id = :i"), {"i": intake_id})).all()
    assert sorted(r[0] is None for r in rows) == [False, True]
    events = (
        await db.execute(
            select(Event.type).where(Event.intake_id == intake_id, Event.type == "intake.coordinator_changed")
        )
    ).all()
    assert len(events) == 2
    # A closed case has no coordinator to change.
    await act(client, staff, f"{base}/close", {"reason": "no_support_needed"})
    await put(client, staff, f"{base}/coordinator", {"name": "Z"}, 409)


async def test_notes_and_validation(client, db, actors) -> None:
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await new_case(client, actors)}"
    r = await client.post(f"{base}/notes", json={"text": "x" * 4001}, headers=staff)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "text"
    r = await client.post(f"{base}/notes", json={"text": "Belt morgen terug."}, headers=staff)
    assert r.status_code == 201 and r.json()["recordedBy"]["organisation"] == "aanmeldpunt-rotterdam"
    # Idempotency-Key: a retry answers the same note.
    key = {"Idempotency-Key": "note-1"}
    first = await client.post(f"{base}/notes", json={"text": "Eén keer."}, headers={**staff, **key})
    again = await client.post(f"{base}/notes", json={"text": "Eén keer."}, headers={**staff, **key})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    count = await db.scalar(text("SELECT count(*) FROM case_notes"))
    assert count == 2
    r = await client.post(f"{base}/notes", json={"text": "Niet van jou."}, headers=actors["mvr"])
    assert r.status_code == 403


async def test_case_meeting_agreements_done_and_overdue(client, db, actors) -> None:
    staff = actors["staff"]
    intake_id = await new_case(client, actors)
    base = f"/api/v1/intakes/{intake_id}"
    tomorrow = (today() + timedelta(days=1)).isoformat()
    body = {
        "at": now_iso(),
        "participants": [
            {"role": "wijkteam", "organisation": "wijkteam-rotterdam", "professionalName": "Annemiek"},
            {"role": "midwife", "organisationName": "Verloskundigen Zuid", "professionalName": "Els"},
        ],
        "summary": "MDO: schulden en huisvesting.",
        "agreements": [
            {"what": "Schuldhulp aanvragen", "owner": "Wijkteam", "dueDate": tomorrow},
            {"what": "Kraampakket regelen", "owner": "Aanmeldpunt", "dueDate": tomorrow},
        ],
    }
    bad = await client.post(
        f"{base}/case-meetings",
        json={**body, "participants": [{"role": "gp", "organisation": "bestaat-niet"}, {"role": "nurse"}]},
        headers=staff,
    )
    assert bad.status_code == 400
    assert all(p["name"].startswith("participants") for p in bad.json()["invalidParams"]), bad.json()
    meeting = await act(client, staff, f"{base}/case-meetings", body, 201)
    assert meeting["participants"][0]["organisationName"] and len(meeting["agreements"]) == 2
    listed = (await client.get(f"{base}/case-meetings", headers=staff)).json()
    assert [m["id"] for m in listed["items"]] == [meeting["id"]] and listed["nextCursor"] is None
    intake = (await client.get(base, headers=staff)).json()
    assert [a["what"] for a in intake["agreements"]] == ["Schuldhulp aanvragen", "Kraampakket regelen"]
    first, second = (a["id"] for a in intake["agreements"])
    done = await act(client, staff, f"{base}/agreements/{first}/done", {"at": now_iso(), "note": "Aangevraagd."})
    assert done["doneAt"] is not None
    r = await client.post(f"{base}/agreements/{first}/done", json={"at": now_iso()}, headers=staff)
    assert r.status_code == 409
    r = await client.post(f"{base}/agreements/{intake_id}/done", json={"at": now_iso()}, headers=staff)
    assert r.status_code == 404
    overdue = {"agreementsOverdue": "true"}
    assert (await client.get("/api/v1/intakes", params=overdue, headers=staff)).json()["items"] == []
    # Two days later the open agreement is past its date: the worklist shows it, and two monitors
    # running at once emit agreement.overdue exactly once.
    clock.advance(timedelta(days=2))
    found = (await client.get("/api/v1/intakes", params=overdue, headers=staff)).json()["items"]
    assert [i["id"] for i in found] == [intake_id]

    async def tick() -> monitor.TickResult:
        async with session_factory()() as session:
            result = await monitor.tick(session, clock.now())
            await session.commit()
        return result

    for _ in range(3):
        await asyncio.gather(tick(), tick())
    events = (
        (await db.execute(select(Event.data).where(Event.type == "agreement.overdue", Event.intake_id == intake_id)))
        .scalars()
        .all()
    )
    assert [e["agreementId"] for e in events] == [second]
    assert "Kraampakket" not in str(events)


async def test_monitor_claims_each_overdue_agreement_once_under_concurrency(client, db, actors) -> None:
    staff = actors["staff"]
    tomorrow = (today() + timedelta(days=1)).isoformat()
    for bsn in ("123456782", "111222333", "999990019"):
        base = f"/api/v1/intakes/{await new_case(client, actors, **{'client.bsn': bsn})}"
        agreements = [{"what": f"Afspraak {n}", "owner": "Wijkteam", "dueDate": tomorrow} for n in range(4)]
        await act(
            client,
            staff,
            f"{base}/case-meetings",
            {
                "at": now_iso(),
                "participants": [{"role": "gp", "organisationName": "Huisarts"}],
                "agreements": agreements,
            },
            201,
        )
    clock.advance(timedelta(days=3))

    async def tick() -> int:
        async with session_factory()() as session:
            result = await monitor.tick(session, clock.now())
            await session.commit()
        return result.agreements_overdue

    counts = [n for _ in range(3) for n in await asyncio.gather(tick(), tick())]
    assert sum(counts) == 12
    emitted = await db.scalar(select(func.count()).select_from(Event).where(Event.type == "agreement.overdue"))
    assert emitted == 12


async def test_involvements_derived_recorded_and_who_sees_them(client, db, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    intake_id = await new_case(client, actors)
    # A second referral of the same woman by another practice is merged in: both referrers stay involved.
    second = (
        await client.post("/api/v1/referrals", json=referral(**{"referrer.role": "gp"}), headers=actors["referrer2"])
    ).json()["id"]
    await act(client, staff, f"/api/v1/intakes/{second}/merge", {"into": intake_id})
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    # A joint intake with a wijkteam worker: she becomes involved.
    r = await client.post(
        f"{base}/assessment",
        json={
            "visitedAt": now_iso(),
            "location": "home",
            "participants": [{"role": "wijkteam", "organisation": "bestaat-niet"}],
        },
        headers=staff,
    )
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "participants[0].organisation"
    await act(
        client,
        staff,
        f"{base}/assessment",
        {
            "visitedAt": now_iso(),
            "location": "home",
            "participants": [
                {"role": "wijkteam", "organisation": "wijkteam-rotterdam", "professionalName": "Annemiek de Wit"}
            ],
        },
    )
    added = await act(
        client,
        staff,
        f"{base}/involvements",
        {
            "role": "kraamzorg",
            "organisationName": "Kraamzorg Zonnig",
            "professionalName": "Ineke",
            "phone": "0612345678",
        },
        201,
    )
    assert added["source"] == "staff" and added["phone"] == "+31612345678"
    items = (await client.get(f"{base}/involvements", headers=staff)).json()["items"]
    by_source = sorted((i["source"], i["role"]) for i in items)
    assert by_source == [
        ("assessment", "wijkteam"),
        ("referral", "gp"),
        ("referral", "midwife"),
        ("staff", "kraamzorg"),
    ], items
    # Nobody but staff and a live handoff's organisation sees them.
    assert (await client.get(f"{base}/involvements", headers=actors["mvr"])).status_code == 404
    handoff = await offered_to_mvr_routed(client, actors, intake_id)
    mine = (await client.get(f"{base}/involvements", headers=mvr)).json()["items"]
    assert ("handoff", "wijkteam") in {(i["source"], i["role"]) for i in mine} and len(mine) == 5
    assert "note" not in mine[0]
    assert (await client.get(f"{base}/involvements", headers=actors["voorzorg"])).status_code == 404
    # Ending: a recorded one once (then 409), a derived one never (409).
    ended = await act(client, staff, f"{base}/involvements/{added['id']}/end", {"until": now_iso()})
    assert ended["until"] is not None
    r = await client.post(f"{base}/involvements/{added['id']}/end", json={"until": now_iso()}, headers=staff)
    assert r.status_code == 409
    derived = next(i for i in items if i["source"] == "referral")
    r = await client.post(f"{base}/involvements/{derived['id']}/end", json={"until": now_iso()}, headers=staff)
    assert r.status_code == 409
    # A declined handoff before support started is no involvement; the programme loses sight.
    await act(client, mvr, f"/api/v1/handoffs/{handoff}/decline", {"reason": "Geen plek."})
    assert (await client.get(f"{base}/involvements", headers=mvr)).status_code == 404
    after = (await client.get(f"{base}/involvements", headers=staff)).json()["items"]
    assert "handoff" not in {i["source"] for i in after}


async def offered_to_mvr_routed(client, actors, intake_id: str) -> str:
    staff, base = actors["staff"], f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    return str((await act(client, staff, f"{base}/handoffs", expect=201))["id"])


async def test_timeline_staff_and_programme_views(client, db, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    intake_id = await new_case(client, actors)
    base = f"/api/v1/intakes/{intake_id}"
    await put(client, staff, f"{base}/coordinator", {"name": "Karin Bakker", "userId": "k.bakker"})
    await act(
        client,
        staff,
        f"{base}/contacts",
        {"at": now_iso(), "channel": "phone", "reached": False, "note": "Geen gehoor."},
    )
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/assessment", {"visitedAt": now_iso(), "location": "home", "notes": "Thuis."})
    await act(client, staff, f"{base}/notes", {"text": "Belt zelf terug."}, 201)
    handoff = await offered_to_mvr_routed(client, actors, intake_id)
    await act(client, mvr, f"/api/v1/handoffs/{handoff}/accept")
    logged = await db.scalar(text("SELECT count(*) FROM access_log WHERE intake_id = :i"), {"i": intake_id})
    r = await client.get(f"{base}/timeline", headers=staff)
    assert r.status_code == 200, r.text
    entries = r.json()["items"]
    types = [e["type"] for e in entries]
    assert types[0] == "received"
    for expected in (
        "coordinator_changed",
        "contact_attempt",
        "assessment",
        "note",
        "routing_recommendation",
        "routing_decision",
        "handoff_offered",
        "handoff_accepted",
        "consent_given",
    ):
        assert expected in types, (expected, types)
    attempts = [e for e in entries if e["type"] == "contact_attempt"]
    assert [a["details"]["reached"] for a in attempts] == [False, True] and attempts[0]["details"]["note"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert (
        next(e for e in entries if e["type"] == "handoff_accepted")["actor"]["organisation"] == "moeders-van-rotterdam"
    )
    assert next(e for e in entries if e["type"] == "note")["actor"]["organisation"] == "aanmeldpunt-rotterdam"
    assert await db.scalar(text("SELECT count(*) FROM access_log WHERE intake_id = :i"), {"i": intake_id}) == logged + 1
    # Paged: the pages together are the whole file, in order.
    seen, cursor = [], None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{base}/timeline", params=params, headers=staff)).json()
        seen += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == entries
    assert (await client.get(f"{base}/timeline", params={"cursor": "nonsense"}, headers=staff)).status_code == 400
    # The programme: its own handoff's entries, the involvements and the coordinator only.
    theirs = (await client.get(f"{base}/timeline", headers=mvr)).json()["items"]
    assert {e["type"] for e in theirs} == {"coordinator_changed", "handoff_offered", "handoff_accepted"}
    assert "Geen gehoor" not in str(theirs) and "Thuis." not in str(theirs)
    assert (await client.get(f"{base}/timeline", headers=actors["voorzorg"])).status_code == 404
    assert (await client.get(f"{base}/timeline", headers=actors["referrer"])).status_code == 403


async def test_self_registration_has_no_referrer_involvement(client, actors) -> None:
    r = await client.post("/api/v1/self-registrations", json=self_registration())
    assert r.status_code == 202
    items = (await client.get("/api/v1/intakes", headers=actors["staff"])).json()["items"]
    intake_id = items[0]["id"]
    involved = (await client.get(f"/api/v1/intakes/{intake_id}/involvements", headers=actors["staff"])).json()
    assert involved == {"items": [], "nextCursor": None}
    timeline = (await client.get(f"/api/v1/intakes/{intake_id}/timeline", headers=actors["staff"])).json()["items"]
    assert timeline[0]["actor"]["organisation"] == "self"


async def test_timeline_shows_a_closed_and_reopened_case(client, actors) -> None:
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await new_case(client, actors)}"
    await act(client, staff, f"{base}/close", {"reason": "unreachable", "note": "Drie keer gebeld."})
    closed = (await client.get(f"{base}/timeline", headers=staff)).json()["items"]
    assert closed[-1]["type"] == "closed" and closed[-1]["details"]["closeReason"] == "unreachable"
    await act(client, staff, f"{base}/reopen", {"reason": "Ze belde zelf terug."})
    entries = (await client.get(f"{base}/timeline", headers=staff)).json()["items"]
    again = entries[-1]
    assert again["type"] == "reopened" and again["details"]["reason"] == "Ze belde zelf terug."
    assert (
        again["details"]["closeReason"] == "unreachable" and again["actor"]["organisation"] == "aanmeldpunt-rotterdam"
    )


async def test_timeline_shows_corrected_facts(client, actors) -> None:
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await new_case(client, actors)}"
    r = await client.patch(base, json={"safetyConcern": True}, headers=staff)
    assert r.status_code == 200, r.text
    fixed = [
        e
        for e in (await client.get(f"{base}/timeline", headers=staff)).json()["items"]
        if e["type"] == "facts_corrected"
    ]
    assert len(fixed) == 1 and fixed[0]["details"]["fields"] == ["safetyConcern"]
    assert fixed[0]["details"]["safetyConcern"] is True and fixed[0]["actor"]["organisation"] == "aanmeldpunt-rotterdam"


async def test_case_actions_honour_if_match(client, actors) -> None:
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await new_case(client, actors)}"
    stale = (await client.get(base, headers=staff)).headers["ETag"]
    r = await client.post(f"{base}/notes", json={"text": "Eerste."}, headers={**staff, "If-Match": stale})
    assert r.status_code == 201
    fresh = r.headers["ETag"]
    meeting = {"at": now_iso(), "participants": [{"role": "gp", "organisationName": "Huisarts"}]}
    for path, body in ((f"{base}/notes", {"text": "Tweede."}), (f"{base}/case-meetings", meeting)):
        r = await client.post(path, json=body, headers={**staff, "If-Match": stale})
        assert r.status_code == 412 and r.headers["content-type"] == "application/problem+json", r.text
    r = await client.post(
        f"{base}/involvements",
        json={"role": "gp", "organisationName": "Huisarts"},
        headers={**staff, "If-Match": fresh},
    )
    assert r.status_code == 201 and r.headers["ETag"] != fresh


async def test_participant_and_coordinator_names_are_normalised(client, actors) -> None:
    """Red-team finding: the coordinator's name and a participant's professional and
    organisation names skipped the name normalisation (app.names): a bidi override or
    zero-width character was stored as sent."""
    staff = actors["staff"]
    base = f"/api/v1/intakes/{await new_case(client, actors)}"
    participant = {"role": "midwife", "organisationName": "Verlos\u202ekundigen\u200b", "professionalName": "E\u2067ls"}
    meeting = await act(client, staff, f"{base}/case-meetings", {"at": now_iso(), "participants": [participant]}, 201)
    stored = meeting["participants"][0]
    assert (stored["organisationName"], stored["professionalName"]) == ("Verloskundigen", "Els")
    blank = {**participant, "professionalName": "\u200b"}
    r = await client.post(f"{base}/case-meetings", json={"at": now_iso(), "participants": [blank]}, headers=staff)
    assert r.status_code == 400, r.text
    coordinator = await put(client, staff, f"{base}/coordinator", {"name": "Ka\u202erin\u200b Bakker"})
    assert coordinator.json()["name"] == "Karin Bakker"
