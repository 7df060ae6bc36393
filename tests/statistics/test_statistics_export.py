"""The research export: CSV, pseudonymised with a keyed hash, only intakes with standing
`research` consent, an access-log row per exported intake, and no direct identifier."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app import clock
from app.db import session_factory
from app.jobs import retention
from app.statistics.export import COLUMNS
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, make_client, referral, seed_programmes, self_registration, today, token

PEOPLE = [
    # given, family, bsn, birth date, phone, e-mail, postcode, research consent
    ("Fatima", "El Amrani", "111222333", "1999-02-14", "+31611111111", "fatima@example.org", "3011 AA", True),
    ("Lisa", "de Groot", "123456782", "2001-07-30", "+31622222222", "lisa@example.org", "3022 BB", True),
    ("Naima", "Bakker", "232262536", "1997-11-03", "+31633333333", "naima@example.org", "3033 CC", False),
    ("Sanne", "Visser", None, "2004-05-21", "+31644444444", "sanne@example.org", "3044 DD", True),  # self-registration
    ("Rosa", "Mulder", "100000009", "1995-09-09", "+31655555555", "rosa@example.org", "3055 EE", True),  # withdraws
    ("Eva", "Smit", "314159265", "2000-01-17", "+31666666666", "eva@example.org", "3066 FF", True),  # erased
]


@pytest.fixture
async def exporter(client) -> dict[str, str]:
    cid, secret = await make_client("erasmus-mc-onderzoek", "referrer", ["research:export"])
    return {"Authorization": f"Bearer {await token(client, cid, secret)}"}


def body(person: tuple[Any, ...]) -> dict[str, Any]:
    given, family, bsn, birth, phone, email, postcode, research = person
    overrides = {
        "client.givenName": given,
        "client.familyName": family,
        "client.birthDate": birth,
        "client.phone": phone,
        "client.email": email,
    }
    raw = referral(**overrides) if bsn else self_registration(**overrides)
    raw["client"]["address"]["postcode"] = postcode
    if bsn:
        raw["client"]["bsn"] = bsn
    if research:
        raw["consent"]["scopes"].append("research")
    return raw


async def test_export_is_pseudonymised_consented_and_audited(client, app, exporter) -> None:
    await seed_programmes()
    staff = await auth_for(client, "staff")
    referrer = await auth_for(client, "referrer")
    ids = []
    for person in PEOPLE:
        if person[2]:
            r = await client.post("/api/v1/referrals", json=body(person), headers=referrer)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        else:
            r = await client.post("/api/v1/self-registrations", json=body(person))
            assert r.status_code == 202, r.text
            found = await client.get("/api/v1/intakes?source=self_registration", headers=staff)
            ids.append(found.json()["items"][0]["id"])
    fatima, lisa, _naima, sanne, rosa, eva = ids
    await act(
        client, staff, f"/api/v1/intakes/{fatima}/contacts", {"at": now_iso(), "channel": "phone", "reached": True}
    )
    await act(
        client,
        staff,
        f"/api/v1/intakes/{fatima}/assessment",
        {"visitedAt": now_iso(), "location": "home", "concerns": ["domestic_violence"], "safetyConcern": False},
    )
    # Rosa withdraws her research consent; Eva's intake is closed and erased (research consent stands).
    intake = (await client.get(f"/api/v1/intakes/{rosa}", headers=staff)).json()
    research = next(c["id"] for c in intake["consents"] if c["scope"] == "research")
    r = await client.post(f"/api/v1/intakes/{rosa}/consents/{research}/withdraw", json={"at": now_iso()}, headers=staff)
    assert r.status_code == 201, r.text
    await act(client, staff, f"/api/v1/intakes/{eva}/close", {"reason": "no_support_needed", "note": "Eva Smit"})
    async with session_factory()() as session:
        assert await retention.erase_due(session, clock.now() + timedelta(days=800)) == 1
        await session.commit()

    period = f"from={(today() - timedelta(days=7)).isoformat()}&to={(today() + timedelta(days=7)).isoformat()}"
    r = await client.get(f"/api/v1/statistics/export?{period}", headers=exporter)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(rows[0].keys()) == COLUMNS
    assert len(rows) == 4  # Fatima, Lisa, Sanne, Eva: not Naima (no consent), not Rosa (withdrawn)
    by_source = sorted(row["source"] for row in rows)
    assert by_source == ["referral", "referral", "referral", "self_registration"]
    assert any(row["concernsAfterAssessment"].split(";").count("domestic_violence") == 1 for row in rows)
    assert {row["ageYears"] for row in rows} >= {"22"}  # Sanne, born 2004-05-21 (today is after 2026-05-21)

    # No direct identifier anywhere in the file.
    references = [(await client.get(f"/api/v1/intakes/{i}", headers=staff)).json()["reference"] for i in ids]
    for person in PEOPLE:
        given, family, bsn, birth, phone, email, postcode, _ = person
        for value in (given, family, bsn, birth, phone, phone[3:], email, postcode, postcode.replace(" ", "")):
            if value:
                assert value not in r.text, value
    for value in (*ids, *references):
        assert value not in r.text
    assert len({row["pseudonym"] for row in rows}) == 4 and all(len(row["pseudonym"]) == 32 for row in rows)

    # The pseudonym is stable from one export to the next; each export is audited per intake.
    again = await client.get(f"/api/v1/statistics/export?{period}", headers=exporter)
    assert sorted(row["pseudonym"] for row in csv.DictReader(io.StringIO(again.text))) == sorted(
        row["pseudonym"] for row in rows
    )
    async with session_factory()() as session:
        logged = (
            await session.execute(text("SELECT intake_id::text, basis FROM access_log WHERE action = 'export'"))
        ).all()
    assert sorted(i for i, _ in logged) == sorted([fatima, lisa, sanne, eva] * 2)
    assert {basis for _, basis in logged} == {"research"}

    # Other roles may not export; without a key the export is not available.
    assert (await client.get(f"/api/v1/statistics/export?{period}", headers=staff)).status_code == 403
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"research_pseudonym_key": None})
    try:
        unconfigured = await client.get(f"/api/v1/statistics/export?{period}", headers=exporter)
    finally:
        app.state.settings = settings
    assert unconfigured.status_code == 503 and unconfigured.headers["content-type"].startswith(
        "application/problem+json"
    )


async def test_statistics_are_confined_to_the_callers_region(client) -> None:
    await seed_programmes()
    staff = await auth_for(client, "staff")
    referrer = await auth_for(client, "referrer")
    for _ in range(6):
        assert (await client.post("/api/v1/referrals", json=referral(), headers=referrer)).status_code == 201
    period = f"from={today().isoformat()}&to={today().isoformat()}"
    before = (await client.get(f"/api/v1/statistics?{period}", headers=staff)).json()
    assert before["registrations"]["total"]["count"] == 6
    async with session_factory()() as session:
        await session.execute(
            text(
                "UPDATE intake_facts SET region = 'utrecht' "
                "WHERE intake_id IN (SELECT intake_id FROM intake_facts LIMIT 1)"
            )
        )
        await session.commit()
    after = (await client.get(f"/api/v1/statistics?{period}", headers=staff)).json()
    assert after["registrations"]["total"] == {"count": 5, "share": None, "suppressed": False}
