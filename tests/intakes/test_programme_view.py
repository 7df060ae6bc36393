"""Issue 13, point 8: a programme sees only what it needs, only while its support runs; and
queued webhook notices are re-checked against consent at delivery for every audience."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.auth.models import Organisation
from app.webhooks.models import Delivery, Event, Subscription
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, referral, seed_programmes
from tests.support.receiver import Receiver, start
from tests.webhooks.test_webhooks import ALL, drain, subscribe

# Exactly the fields a programme gets (README "What a programme sees" gives the reason for each).
# Nested objects are listed by their own keys; a field not listed here fails the test.
PROGRAMME_FIELDS: dict[str, Any] = {
    "id": None,
    "reference": None,
    "legalBasis": None,
    "client": {
        "givenName": None,
        "familyName": None,
        "birthDate": None,
        "phone": None,
        "email": None,
        "address": {"postcode": None, "houseNumber": None, "houseNumberSuffix": None, "city": None},
        "preferredLanguage": None,
        "interpreterNeeded": None,
    },
    "contactPreference": None,
    "pregnancy": {"pregnant": None, "dueDate": None, "firstChild": None, "weeksPregnant": None},
    "children": [{"birthDate": None}],
    "concerns": [{"code": None, "domain": None, "source": None}],
    "safetyConcern": None,
    "coordinator": {"name": None, "phone": None, "email": None, "userId": None, "organisation": None, "since": None},
    "vulnerability": None,
    "handoffs": [
        {
            "id": None,
            "programme": None,
            "status": None,
            "offeredAt": None,
            "acceptedAt": None,
            "firstContactAt": None,
            "supportStartedAt": None,
            "supportStartDueAt": None,
        }
    ],
}

DECLINE_REASON = "Wachtlijst vol tot maart; geen ruimte voor nieuwe cliënten."
CONSENT_NOTE = "Toestemming telefonisch bevestigd met haar zus erbij."
SECRETS = (
    DECLINE_REASON,
    CONSENT_NOTE,
    "123456782",  # BSN
    "Verloskundige De Vries",  # the referrer's professional
    "+31104567890",  # the referrer's phone
    "praktijk@example.org",  # the referrer's e-mail
    "verloskundigen-zuid",  # the referring organisation
    "Zorgen over schulden",  # the narrative
    "moeders-van-rotterdam",  # the programme that declined (handoff, exclusion, routing)
    "aanmeldpunt-rotterdam",  # who recorded consents
    "Acuut",  # a routing decision reason
)


def assert_shape(value: Any, allowed: Any, path: str = "") -> None:
    if isinstance(value, dict):
        assert isinstance(allowed, dict), f"{path} must not be an object"
        extra = set(value) - set(allowed)
        assert not extra, f"fields a programme must not see at {path or 'top level'}: {sorted(extra)}"
        missing = set(allowed) - set(value)
        assert not missing, f"missing at {path or 'top level'}: {sorted(missing)}"
        for key, sub in value.items():
            if allowed[key] is not None:
                assert_shape(sub, allowed[key], f"{path}.{key}")
    elif isinstance(value, list):
        assert isinstance(allowed, list), f"{path} must not be a list"
        for item in value:
            assert_shape(item, allowed[0], f"{path}[]")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = start(r)
    yield r
    server.shutdown()


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    roles = ("admin", "referrer", "staff", "mvr", "wijkteam")
    return {role: await auth_for(client, role) for role in roles}


async def declined_then_offered_to_wijkteam(client, actors) -> tuple[str, str]:
    """Referred (with a BSN, a narrative and the referrer's contact details), a consent with
    a note, offered to Moeders van Rotterdam which declines with a reason, then offered to the
    wijkteam. Returns the intake path and the wijkteam's handoff id."""
    staff, mvr = actors["staff"], actors["mvr"]
    body = referral(children=[{"birthDate": "2025-06-01"}])
    r = await client.post("/api/v1/referrals", json=body, headers=actors["referrer"])
    assert r.status_code == 201, r.text
    base = f"/api/v1/intakes/{r.json()['id']}"
    r = await client.post(
        f"{base}/consents",
        json={"scope": "research", "given": True, "obtainedAt": now_iso(), "method": "verbal", "note": CONSENT_NOTE},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    first = await act(client, staff, f"{base}/handoffs", expect=201)
    await act(client, mvr, f"/api/v1/handoffs/{first['id']}/decline", {"reason": DECLINE_REASON})
    await act(client, staff, f"{base}/routing", {"programme": "wijkteam", "reason": "Acuut: wijkteam kan morgen."})
    second = await act(client, staff, f"{base}/handoffs", expect=201)
    return base, str(second["id"])


async def test_programme_sees_exactly_its_fields(client, actors) -> None:
    base, handoff_id = await declined_then_offered_to_wijkteam(client, actors)
    r = await client.get(base, headers=actors["wijkteam"])
    assert r.status_code == 200, r.text
    view = r.json()
    assert_shape(view, PROGRAMME_FIELDS)
    # What it needs to make contact is there.
    assert view["client"]["givenName"] == "Samira" and view["client"]["phone"] == "+31612345678"
    assert view["client"]["address"]["postcode"] == "3073 AB"
    assert view["children"] == [{"birthDate": "2025-06-01"}]
    assert {c["code"] for c in view["concerns"]} == {"debts", "housing_problem", "stress"}
    # Only its own handoff: not the declined one of Moeders van Rotterdam.
    assert [h["id"] for h in view["handoffs"]] == [handoff_id]
    assert view["handoffs"][0]["supportStartDueAt"] is not None
    raw = r.text
    for secret in SECRETS:
        assert secret not in raw, secret
    assert r.headers["ETag"]
    # Staff still see everything (the same intake, the staff model).
    staff_view = (await client.get(base, headers=actors["staff"])).json()
    assert staff_view["referrer"]["phone"] == "+31104567890"
    assert any(h.get("declineReason") == DECLINE_REASON for h in staff_view["handoffs"])
    assert any(c.get("note") == CONSENT_NOTE for c in staff_view["consents"])


async def test_programme_view_in_openapi_is_its_own_model(client) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()
    schema = doc["components"]["schemas"]["ProgrammeIntakeView"]
    assert set(schema["properties"]) == set(PROGRAMME_FIELDS)


async def offered(client, actors) -> tuple[str, str]:
    staff = actors["staff"]
    r = await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])
    base = f"/api/v1/intakes/{r.json()['id']}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    return base, str(handoff["id"])


async def assert_gone(client, headers, base: str, handoff_id: str) -> None:
    for path in (base, f"/api/v1/handoffs/{handoff_id}"):
        r = await client.get(path, headers=headers)
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_nothing_after_the_intake_closed_even_with_support_started(client, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    base, handoff_id = await offered(client, actors)
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/accept")
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/first-contact", {"at": now_iso()})
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/support-started", {"at": now_iso()})
    assert (await client.get(base, headers=mvr)).status_code == 200
    await act(client, staff, f"{base}/close", {"reason": "support_started"})
    # The handoff itself stays `support_started` (her support goes on), but our data stops.
    handoffs = (await client.get(base, headers=staff)).json()["handoffs"]
    assert handoffs[0]["status"] == "support_started"
    await assert_gone(client, mvr, base, handoff_id)


async def test_nothing_after_decline(client, actors) -> None:
    mvr = actors["mvr"]
    base, handoff_id = await offered(client, actors)
    assert (await client.get(base, headers=mvr)).status_code == 200
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/decline", {"reason": "Geen plek."})
    await assert_gone(client, mvr, base, handoff_id)


async def test_nothing_after_revoke(client, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    base, handoff_id = await offered(client, actors)
    assert (await client.get(base, headers=mvr)).status_code == 200
    # Closing revokes the offered handoff.
    await act(client, staff, f"{base}/close", {"reason": "declined_by_client"})
    assert (await client.get(base, headers=staff)).json()["handoffs"][0]["status"] == "revoked"
    await assert_gone(client, mvr, base, handoff_id)


async def deliveries_of(db, intake_path: str, organisation: str) -> list[tuple[str, str, bool]]:
    rows = await db.execute(
        select(Event.type, Delivery.status, Delivery.notice)
        .join(Delivery, Delivery.event_id == Event.id)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(Organisation, Organisation.id == Subscription.organisation_id)
        .where(Event.intake_id == intake_path.rsplit("/", 1)[1], Organisation.code == organisation)
        .order_by(Event.seq)
    )
    return [(t, s, n) for t, s, n in rows.all()]


async def test_queued_notice_to_referrer_is_rechecked_at_delivery(client, db, settings, actors, receiver) -> None:
    """A referrer's queued `handoff.ended` (a notice type that used to skip the check; the
    referrer follows the end of support) is not sent once `feedback_to_referrer` is withdrawn;
    the programme that ended its support still gets it as the notice of its lost access."""
    admin, staff, mvr = actors["admin"], actors["staff"], actors["mvr"]
    await subscribe(client, admin, receiver, "ok", "hub", "aanmeldpunt-rotterdam")
    await subscribe(client, admin, receiver, "ok", "referrer", "verloskundigen-zuid")
    await subscribe(client, admin, receiver, "ok", "mvr", "moeders-van-rotterdam")
    base, handoff_id = await offered(client, actors)
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/accept")
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/first-contact", {"at": now_iso()})
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/support-started", {"at": now_iso()})
    await drain(settings, rounds=1)
    before = [a.body["type"] for a in receiver.of("referrer")]
    assert before[-2:] == ["handoff.first_contact", "intake.support_started"]
    programme_before = [a.body["type"] for a in receiver.of("mvr")]
    assert programme_before[-1] == "intake.support_started"

    # Queued now, while feedback consent stands: for the referrer, the hub, and mvr (as its notice).
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/end", {"at": now_iso(), "reason": "completed"})
    queued = await deliveries_of(db, base, "verloskundigen-zuid")
    assert queued[-1] == ("handoff.ended", "pending", False)
    intake = (await client.get(base, headers=staff)).json()
    feedback = next(c["id"] for c in intake["consents"] if c["scope"] == "feedback_to_referrer")
    r = await client.post(f"{base}/consents/{feedback}/withdraw", json={"at": now_iso()}, headers=staff)
    assert r.status_code == 201, r.text
    await drain(settings, rounds=1)

    # Real HTTP: the referrer's endpoint received nothing more; the programme got its notice.
    assert [a.body["type"] for a in receiver.of("referrer")] == before
    assert [a.body["type"] for a in receiver.of("mvr")] == [*programme_before, "handoff.ended"]
    assert all(a.verified for a in receiver.arrivals)
    hub_types = [a.body["type"] for a in receiver.of("hub")]
    assert hub_types[-2:] == ["handoff.ended", "consent.withdrawn"]
    assert (await deliveries_of(db, base, "verloskundigen-zuid"))[-1] == ("handoff.ended", "suppressed", False)
    assert (await deliveries_of(db, base, "moeders-van-rotterdam"))[-1] == ("handoff.ended", "delivered", True)
    # Nothing personal in any body.
    for arrival in receiver.arrivals:
        text = json.dumps(arrival.body)
        assert "Samira" not in text


async def test_queued_events_to_a_programme_stop_when_sharing_is_withdrawn(
    client, db, settings, actors, receiver
) -> None:
    """Every audience: a programme's queued `handoff.offered` is not sent after sharing
    consent is withdrawn; only the notice that its access ended is."""
    admin, staff = actors["admin"], actors["staff"]
    await subscribe(client, admin, receiver, "ok", "mvr", "moeders-van-rotterdam", types=ALL)
    base, _ = await offered(client, actors)
    intake = (await client.get(base, headers=staff)).json()
    share = next(c["id"] for c in intake["consents"] if c["scope"] == "share_with_programme")
    r = await client.post(f"{base}/consents/{share}/withdraw", json={"at": now_iso()}, headers=staff)
    assert r.status_code == 201, r.text
    await drain(settings, rounds=1)
    assert [a.body["type"] for a in receiver.of("mvr")] == ["handoff.revoked", "consent.withdrawn"]
    assert await deliveries_of(db, base, "moeders-van-rotterdam") == [
        ("handoff.offered", "suppressed", False),
        ("handoff.revoked", "delivered", True),
        ("consent.withdrawn", "delivered", True),
    ]


async def test_a_programme_hears_the_close_of_its_started_support_and_nothing_queued_before(
    client, db, settings, actors, receiver
) -> None:
    admin, staff, mvr = actors["admin"], actors["staff"], actors["mvr"]
    await subscribe(client, admin, receiver, "ok", "mvr", "moeders-van-rotterdam", types=ALL)
    base, handoff_id = await offered(client, actors)
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/accept")
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/first-contact", {"at": now_iso()})
    await act(client, mvr, f"/api/v1/handoffs/{handoff_id}/support-started", {"at": now_iso()})
    await drain(settings, rounds=1)
    seen = [a.body["type"] for a in receiver.of("mvr")]
    assert seen == ["handoff.offered", "handoff.accepted", "handoff.first_contact", "intake.support_started"]
    # A contact recorded just before the close is queued for the programme, but delivered
    # only after the close: then the programme hears the close and not that contact.
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/close", {"reason": "support_started"})
    await drain(settings, rounds=1)
    assert [a.body["type"] for a in receiver.of("mvr")] == [*seen, "intake.closed"]
