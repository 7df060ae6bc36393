"""The typed contract of webhook event data (issue 19): every event type has a response model
(app/intakes/events.py), every stored event's data is exactly one of its type's models, and
no event carries personal data — checked on the events a whole case produces and on what the
aanmeldpunt's subscription receives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from app import clock
from app.db import session_factory
from app.intakes.events import EVENT_DATA, EventModel, IntakeEventData
from app.jobs import monitor
from app.vocab import EventType
from app.webhooks.models import Event
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import PERSONAL_DATA, auth_for, referral, seed_programmes, today
from tests.support.receiver import Receiver, start
from tests.webhooks.test_webhooks import drain, subscribe

MVR, WIJKTEAM = "moeders-van-rotterdam", "wijkteam"
# Free text written along the way: none of it may reach an event.
FREE_TEXT = (
    "Geen plek in haar wijk",
    "Schulden en huisvesting",
    "Belt morgen terug",
    "Schuldhulp aanvragen",
    "Kraampakket regelen",
    "MDO over geldzorgen",
    "Veiligheid in het geding",
    "Doelen behaald",
    "Ze belde zelf terug",
    "Ineke",
    "Karin Bakker",
    "0612345678",
    "+31612345678",
)
# Field names that would hold personal data or free text; no event model may have one.
# The referral's personal data (the bare postcode digits could occur inside an id).
PERSONAL = (*(p for p in PERSONAL_DATA if p != "3073"), "3073 AB")
PERSONAL_FIELDS = {
    "name",
    "given_name",
    "family_name",
    "bsn",
    "birth_date",
    "phone",
    "email",
    "address",
    "postcode",
    "note",
    "narrative",
    "message",
    "text",
    "summary",
    "justification",
    "professional_name",
    "what",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    server = start(r)
    yield r
    server.shutdown()


def typed(event_type: str, data: dict[str, Any]) -> EventModel:
    """The data as one of its event type's models (exactly: unknown fields are refused)."""
    errors = []
    for model in EVENT_DATA[EventType(event_type)]:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors.append(exc)
    raise AssertionError(f"{event_type}: {data} fits none of its models: {errors}")


def test_every_event_type_has_a_data_model_without_personal_fields() -> None:
    assert set(EVENT_DATA) == set(EventType)
    for models in EVENT_DATA.values():
        for model in models:
            assert not PERSONAL_FIELDS & set(model.model_fields), model
            assert model.model_config.get("extra") == "forbid", model


def test_the_wire_form_is_camel_case_with_utc_z_timestamps() -> None:
    moment = clock.now().astimezone(clock.AMSTERDAM)
    data = IntakeEventData(
        intake_id="6f1c0000-0000-4000-8000-000000000000",
        reference="AMP-7KQ2MZ4D",
        status="handed_off",
        programme=None,
        next_deadline_at=moment,
        deadlines=[{"phase": "support_start", "due_at": moment, "state": "open"}],
    ).wire()
    assert list(data) == ["intakeId", "reference", "status", "programme", "nextDeadlineAt", "deadlines"]
    assert data["nextDeadlineAt"] == clock.iso_z(moment) and data["nextDeadlineAt"].endswith("Z")
    assert data["deadlines"] == [{"phase": "support_start", "dueAt": clock.iso_z(moment), "state": "open"}]
    with pytest.raises(ValidationError):
        IntakeEventData.model_validate({**data, "givenName": "Samira"})


async def test_every_event_of_a_case_fits_its_model_and_holds_no_personal_data(
    client, db, settings, receiver, capsys
) -> None:
    await seed_programmes()
    roles = ("admin", "staff", "referrer", "referrer2", "mvr", "wijkteam")
    admin, staff, referrer, referrer2, mvr, wijkteam = [await auth_for(client, role) for role in roles]
    staff2 = await auth_for(client, "staff")  # the second pair of eyes
    await subscribe(client, admin, receiver, "ok", "hub", "aanmeldpunt-rotterdam", types=[str(t) for t in EventType])
    await subscribe(client, admin, receiver, "gone", "gone", "aanmeldpunt-rotterdam", types=["intake.received"])

    # One case from referral to support, its case work, closing and reopening.
    case = referral(safetyConcern=True)  # the meldcode basis needs a safety concern
    base = f"/api/v1/intakes/{(await act(client, referrer, '/api/v1/referrals', case, 201))['id']}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/assessment", {"visitedAt": now_iso(), "location": "home"})
    await act(client, staff, f"{base}/routing", {"programme": MVR})
    first = await act(client, staff, f"{base}/handoffs", expect=201)
    second = await act(client, staff, f"{base}/handoffs", {"programme": WIJKTEAM, "reason": FREE_TEXT[1]}, 201)
    await act(client, mvr, f"/api/v1/handoffs/{first['id']}/decline", {"reason": FREE_TEXT[0]})
    for step, body in (("accept", None), ("first-contact", {"at": now_iso()}), ("support-started", {"at": now_iso()})):
        await act(client, wijkteam, f"/api/v1/handoffs/{second['id']}/{step}", body)
    r = await client.put(f"{base}/coordinator", json={"name": "Karin Bakker", "phone": "0612345678"}, headers=staff)
    assert r.status_code == 200, r.text
    involvement = await act(
        client,
        staff,
        f"{base}/involvements",
        {"role": "kraamzorg", "organisationName": "Kraamzorg Zonnig", "professionalName": "Ineke"},
        201,
    )
    await act(client, staff, f"{base}/involvements/{involvement['id']}/end", {"until": now_iso()})
    await act(client, staff, f"{base}/notes", {"text": FREE_TEXT[2]}, 201)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    await act(
        client,
        staff,
        f"{base}/case-meetings",
        {
            "at": now_iso(),
            "participants": [{"role": "gp", "organisationName": "Huisarts"}],
            "summary": FREE_TEXT[5],
            "agreements": [
                {"what": FREE_TEXT[3], "owner": "Wijkteam", "dueDate": tomorrow},
                {"what": FREE_TEXT[4], "owner": "Aanmeldpunt", "dueDate": tomorrow},
            ],
        },
        201,
    )
    agreement = (await client.get(base, headers=staff)).json()["agreements"][0]
    await act(client, staff, f"{base}/agreements/{agreement['id']}/done", {"at": now_iso()})
    pending = await act(client, staff, f"{base}/legal-basis", {"basis": "meldcode", "justification": FREE_TEXT[6]}, 201)
    await act(client, staff2, f"{base}/legal-basis/{pending['id']}/confirm")
    end = {"at": now_iso(), "reason": "completed", "note": FREE_TEXT[7]}
    await act(client, wijkteam, f"/api/v1/handoffs/{second['id']}/end", end)
    await act(client, staff, f"{base}/close", {"reason": "support_started"})
    await act(client, staff, f"{base}/reopen", {"reason": FREE_TEXT[8]})

    # Consent withdrawn while a handoff is live: the handoff is revoked.
    other = referral(**{"client.bsn": "111222333", "client.familyName": "Bakker"})
    withdrawn = f"/api/v1/intakes/{(await act(client, referrer, '/api/v1/referrals', other, 201))['id']}"
    await act(client, staff, f"{withdrawn}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{withdrawn}/routing", {"programme": MVR})
    await act(client, staff, f"{withdrawn}/handoffs", expect=201)
    share = next(
        c["id"]
        for c in (await client.get(withdrawn, headers=staff)).json()["consents"]
        if c["scope"] == "share_with_programme"
    )
    await act(client, staff, f"{withdrawn}/consents/{share}/withdraw", {"at": now_iso()}, 201)

    # A second referral of the same woman, merged in.
    again = referral(**{"client.bsn": "999990019", "client.familyName": "Visser"})
    kept = (await act(client, referrer, "/api/v1/referrals", again, 201))["id"]
    merged = (await act(client, referrer2, "/api/v1/referrals", again, 201))["id"]
    await act(client, staff, f"/api/v1/intakes/{merged}/merge", {"into": kept})

    # Time passes: deadlines approach and pass, the open agreement is overdue; the 410 endpoint
    # is disabled while the dispatcher delivers.
    clock.advance(timedelta(days=60))
    async with session_factory()() as session:
        await monitor.tick(session, clock.now())
        await session.commit()
    await drain(settings, rounds=3)

    events = (await db.execute(select(Event.type, Event.data).order_by(Event.seq))).all()
    assert {t for t, _ in events} == set(EventType), sorted(set(EventType) - {t for t, _ in events})
    for event_type, data in events:
        model = typed(event_type, data)
        assert model.wire() == data  # the stored form is the model's wire form, nothing more
        text = json.dumps(data)
        assert not any(p in text for p in PERSONAL + FREE_TEXT), (event_type, text)

    # What the aanmeldpunt receives is that data plus the URL to fetch the intake with, and the
    # whole body is what the OpenAPI document's `webhooks` entry of its type says.
    hub = [a for a in receiver.of("hub") if a.answered == 200]
    assert {a.body["type"] for a in hub} == set(EventType)
    documented = _webhook_validators()
    for arrival in hub:
        errors = [e.message for e in documented[arrival.body["type"]].iter_errors(arrival.body)]
        assert not errors, (arrival.body["type"], errors)
        data = dict(arrival.body["data"])
        if arrival.body["type"] != EventType.ENDPOINT_DISABLED:
            assert data.pop("url").startswith("http://testserver/api/v1/intakes/")
        typed(arrival.body["type"], data)
        assert arrival.body["timestamp"].endswith("Z")
        assert not any(p in arrival.raw.decode() for p in PERSONAL + FREE_TEXT), arrival.raw


def _webhook_validators() -> dict[str, Any]:
    """A JSON Schema validator per event type, from the committed OpenAPI document's `webhooks`."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    doc = json.loads(Path("openapi/openapi.json").read_text())
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(doc))
    pointer = "urn:doc#/webhooks/{}/post/requestBody/content/application~1json/schema"
    return {t: Draft202012Validator({"$ref": pointer.format(t)}, registry=registry) for t in doc["webhooks"]}
