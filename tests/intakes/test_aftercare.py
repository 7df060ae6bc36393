"""Aftercare, return and the partner (issue 16): a closed intake reopened with fresh deadlines,
a woman who comes back linked to her earlier intake (staff only, both ways), and the partner
shown to staff only — never to the referrer, a programme, the logs or a webhook."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from app import clock
from app.db import session_factory
from app.jobs import retention
from app.webhooks.models import Event
from tests.consent.test_consent_flow import consent_id
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import PERSONAL_DATA, auth_for, referral, seed_programmes, self_registration

PARTNER = {
    "givenName": "Youssef",
    "familyName": "Bakkali",
    "phone": "06 87654321",
    "email": "youssef@example.org",
    "involved": True,
}
PARTNER_SECRETS = ("Youssef", "Bakkali", "87654321", "youssef@example.org")


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    return {role: await auth_for(client, role) for role in ("referrer", "staff", "mvr")}


async def refer(client, actors, **overrides: Any) -> str:
    r = await client.post("/api/v1/referrals", json=referral(**overrides), headers=actors["referrer"])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def staff_get(client, actors, intake_id: str) -> tuple[dict[str, Any], str]:
    r = await client.get(f"/api/v1/intakes/{intake_id}", headers=actors["staff"])
    assert r.status_code == 200, r.text
    return r.json(), r.headers["ETag"]


async def reopen(client, actors, intake_id: str, etag: str | None = None, reason: str = "Terugval na de bevalling."):
    headers = {**actors["staff"], **({"If-Match": etag} if etag else {})}
    return await client.post(f"/api/v1/intakes/{intake_id}/reopen", json={"reason": reason}, headers=headers)


async def test_reopen_gives_fresh_deadlines_from_now_with_the_current_facts(client, db, actors) -> None:
    staff = actors["staff"]
    intake_id = await refer(client, actors)
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    # New facts while open: a safety concern tightens the deadlines; reopening must use it.
    r = await client.patch(base, json={"safetyConcern": True}, headers=staff)
    assert r.status_code == 200, r.text
    # Open: nothing to reopen.
    assert (await reopen(client, actors, intake_id)).status_code == 409
    await act(client, staff, f"{base}/close", {"reason": "no_support_needed"})
    closed, etag = await staff_get(client, actors, intake_id)
    clock.advance(timedelta(days=60))  # months later she falls back
    assert (await reopen(client, actors, intake_id, '"1"')).status_code == 412
    assert (await client.post(f"{base}/reopen", json={}, headers=staff)).status_code == 400
    r = await reopen(client, actors, intake_id, etag)
    assert r.status_code == 200, r.text
    reopened = r.json()
    assert r.headers["ETag"] != etag
    assert reopened["status"] == "contacted" and reopened["closedAt"] is None and reopened["closeReason"] is None
    moment = clock.now()
    fresh = [d for d in reopened["deadlines"] if datetime.fromisoformat(d["dueAt"]) > moment]
    assert {d["phase"] for d in fresh} == {"response", "intake", "support_start"}
    assert [d["state"] for d in fresh if d["phase"] == "response"] == ["met"]  # she is in contact
    simulation = {
        "receivedAt": moment.isoformat(),
        "pregnancy": {k: closed["pregnancy"][k] for k in ("pregnant", "dueDate", "firstChild")},
        "safetyConcern": True,
    }
    simulated = await act(client, staff, "/api/v1/deadlines/simulate", simulation)
    expected = {d["phase"]: d["dueAt"] for d in simulated["deadlines"]}
    assert {d["phase"]: d["dueAt"] for d in fresh} == expected
    assert reopened["nextDeadlineAt"] == min(d["dueAt"] for d in fresh if d["state"] == "open")
    types = list((await db.scalars(select(Event.type).where(Event.intake_id == intake_id).order_by(Event.seq))).all())
    assert types[-1] == "intake.reopened"
    # The reason is kept for the case file; the referrer sees the case open again.
    reason = await db.scalar(text("SELECT reason FROM intake_reopenings WHERE intake_id = :i"), {"i": intake_id})
    assert reason == "Terugval na de bevalling."
    view = (await client.get(f"/api/v1/referrals/{intake_id}", headers=actors["referrer"])).json()
    assert view["status"] == "contacted" and view["dates"]["closedAt"] is None
    timeline = (await client.get(f"{base}/timeline", params={"limit": "200"}, headers=staff)).json()["items"]
    entry = next(e for e in timeline if e["type"] == "reopened")
    assert entry["details"]["reason"] == "Terugval na de bevalling."
    assert entry["details"]["closeReason"] == "no_support_needed"
    assert entry["actor"]["organisation"] == "aanmeldpunt-rotterdam"
    # Open again: a second reopen is refused; closing and reopening again works.
    assert (await reopen(client, actors, intake_id)).status_code == 409
    await act(client, staff, f"{base}/close", {"reason": "no_support_needed"})
    assert (await reopen(client, actors, intake_id)).status_code == 200


async def test_reopen_is_refused_when_erased_merged_or_without_processing_consent(client, actors) -> None:
    staff = actors["staff"]
    withdrawn = await refer(client, actors)
    intake, _ = await staff_get(client, actors, withdrawn)
    await act(
        client,
        staff,
        f"/api/v1/intakes/{withdrawn}/consents/{consent_id(intake, 'processing')}/withdraw",
        {"at": now_iso()},
        201,
    )
    r = await reopen(client, actors, withdrawn)
    assert r.status_code == 409 and r.json()["type"].endswith("/consent-required"), r.text
    async with session_factory()() as session:
        assert await retention.erase_due(session, clock.now()) == 1
        await session.commit()
    r = await reopen(client, actors, withdrawn)
    assert r.status_code == 409 and r.json()["type"].endswith("/erased"), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    kept, merged = await refer(client, actors), await refer(client, actors)
    await act(client, staff, f"/api/v1/intakes/{merged}/merge", {"into": kept})
    r = await reopen(client, actors, merged)
    assert r.status_code == 409 and r.json()["type"].endswith("/merged"), r.text
    assert (await reopen(client, actors, "00000000-0000-0000-0000-000000000000")).status_code == 404
    assert (await reopen(client, actors, kept)).status_code == 409  # open


async def test_a_returning_woman_is_linked_both_ways_for_staff_only(client, actors) -> None:
    staff, referrer = actors["staff"], actors["referrer"]
    earlier = await refer(client, actors)
    await act(client, staff, f"/api/v1/intakes/{earlier}/close", {"reason": "unreachable"})
    # Another woman, closed too: not linked.
    stranger = await refer(client, actors, **{"client.bsn": "111222333", "client.familyName": "Anders"})
    await act(client, staff, f"/api/v1/intakes/{stranger}/close", {"reason": "unreachable"})
    again = await refer(client, actors)
    new, _ = await staff_get(client, actors, again)
    old, _ = await staff_get(client, actors, earlier)
    assert new["previousIntakes"] == [earlier] and new["laterIntakes"] == []
    assert old["laterIntakes"] == [again] and old["previousIntakes"] == []
    assert new["possibleDuplicates"] == []  # closed: a return, not a duplicate
    view = (await client.get(f"/api/v1/referrals/{again}", headers=referrer)).json()
    assert earlier not in json.dumps(view)
    # A self-registration (no BSN) matches by birth date, family name and postcode or phone.
    r = await client.post("/api/v1/self-registrations", json=self_registration())
    assert r.status_code == 202, r.text
    old, _ = await staff_get(client, actors, earlier)
    assert len(old["laterIntakes"]) == 2 and old["laterIntakes"][0] == again
    self_id = old["laterIntakes"][1]
    mine, _ = await staff_get(client, actors, self_id)
    assert mine["previousIntakes"] == [earlier] and again in mine["possibleDuplicates"]


async def test_the_self_registration_answer_is_the_same_whether_or_not_she_was_known(client, actors) -> None:
    staff = actors["staff"]
    unknown_body = self_registration(**{"client.familyName": "Onbekend", "client.phone": "+31611112222"})
    unknown_body["client"]["address"]["postcode"] = "3011 AA"
    unknown = await client.post("/api/v1/self-registrations", json=unknown_body)
    earlier = await refer(client, actors)
    await act(client, staff, f"/api/v1/intakes/{earlier}/close", {"reason": "unreachable"})
    known = await client.post("/api/v1/self-registrations", json=self_registration())
    assert unknown.status_code == known.status_code == 202
    assert set(unknown.headers) == set(known.headers)
    a, b = unknown.json(), known.json()
    assert set(a) == set(b) == {"reference", "message"}
    assert a["message"] == b["message"] and len(a["reference"]) == len(b["reference"])
    assert len(unknown.content) == len(known.content)
    # She was linked all the same, where staff see it.
    old, _ = await staff_get(client, actors, earlier)
    assert len(old["laterIntakes"]) == 1


async def test_an_erased_intake_is_not_linked(client, actors) -> None:
    staff = actors["staff"]
    earlier = await refer(client, actors)
    intake, _ = await staff_get(client, actors, earlier)
    processing = consent_id(intake, "processing")
    await act(client, staff, f"/api/v1/intakes/{earlier}/consents/{processing}/withdraw", {"at": now_iso()}, 201)
    async with session_factory()() as session:
        assert await retention.erase_due(session, clock.now()) == 1
        await session.commit()
    again = await refer(client, actors)
    new, _ = await staff_get(client, actors, again)
    assert new["previousIntakes"] == []


async def test_partner_for_staff_only_and_never_in_logs_or_webhooks(client, db, actors, capsys) -> None:
    staff, mvr, referrer = actors["staff"], actors["mvr"], actors["referrer"]
    posted = await client.post("/api/v1/referrals", json=referral(partner=PARTNER), headers=referrer)
    assert posted.status_code == 201, posted.text
    intake_id = posted.json()["id"]
    intake, _ = await staff_get(client, actors, intake_id)
    assert intake["partner"] == {**PARTNER, "phone": "+31687654321"}  # validated and stored like hers
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/accept")
    answers = [
        posted.text,
        (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).text,
        (await client.get("/api/v1/referrals", headers=referrer)).text,
        (await client.get(base, headers=mvr)).text,
        (await client.get(f"/api/v1/handoffs/{handoff['id']}", headers=mvr)).text,
    ]
    events = (await db.execute(text("SELECT type, data FROM events WHERE intake_id = :i"), {"i": intake_id})).all()
    assert len(events) >= 4
    for secret in PARTNER_SECRETS:
        for answer in answers:
            assert secret not in answer, secret
        assert secret not in json.dumps([list(e) for e in events], default=str), secret
    out = capsys.readouterr()
    logged = out.out + out.err
    assert '"event": "request"' in logged  # the logs were captured
    # (Short digit strings such as her postcode's could match a timestamp; names and the rest cannot.)
    for secret in (*PARTNER_SECRETS, *(d for d in PERSONAL_DATA if not d.isdigit() or len(d) > 6)):
        assert secret not in logged, secret
    # A self-registration takes a partner too.
    r = await client.post("/api/v1/self-registrations", json=self_registration(partner=PARTNER))
    assert r.status_code == 202, r.text


@pytest.mark.parametrize(
    ("partner", "fields"),
    [
        ({"givenName": "", "involved": True}, {"partner.givenName"}),
        ({"givenName": "Y", "phone": "12", "email": "nope", "involved": True}, {"partner.phone", "partner.email"}),
        ({"givenName": "Y"}, {"partner.involved"}),
        ({"givenName": "Y", "involved": True, "bsn": "123456782"}, {"partner.bsn"}),
    ],
)
async def test_partner_is_validated_like_her_fields(client, actors, partner, fields) -> None:
    for path, body in (
        ("/api/v1/referrals", referral(partner=partner)),
        ("/api/v1/self-registrations", self_registration(partner=partner)),
    ):
        headers = actors["referrer"] if path.endswith("referrals") else {}
        r = await client.post(path, json=body, headers=headers)
        assert r.status_code == 400, r.text
        assert {p["name"] for p in r.json()["invalidParams"]} == fields, r.text


async def test_after_a_reopening_the_earlier_support_does_not_count_as_started(client, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    wijkteam = await auth_for(client, "wijkteam")
    intake_id = await refer(client, actors)
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = (await act(client, staff, f"{base}/handoffs", expect=201))["id"]
    for step, body in (("accept", None), ("first-contact", {"at": now_iso()}), ("support-started", {"at": now_iso()})):
        await act(client, mvr, f"/api/v1/handoffs/{handoff}/{step}", body)
    await act(client, mvr, f"/api/v1/handoffs/{handoff}/end", {"at": now_iso(), "reason": "completed"})
    await act(client, staff, f"{base}/close", {"reason": "support_started"})
    clock.advance(timedelta(days=90))
    assert (await reopen(client, actors, intake_id)).json()["status"] == "contacted"
    # A new support: handed off, not "support started" because of the earlier one.
    await act(client, staff, f"{base}/routing", {"programme": "wijkteam", "reason": "Nu basishulp in de wijk."})
    second = (await act(client, staff, f"{base}/handoffs", expect=201))["id"]
    assert (await staff_get(client, actors, intake_id))[0]["status"] == "handed_off"
    await act(client, wijkteam, f"/api/v1/handoffs/{second}/accept")
    await act(client, wijkteam, f"/api/v1/handoffs/{second}/decline", {"reason": "Geen plek op dit moment."})
    assert (await staff_get(client, actors, intake_id))[0]["status"] == "assessed"  # back to route again
