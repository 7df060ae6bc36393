"""Erasure leaves exactly the anonymous remainder (issue 13.7): every column of every row that
belongs to the intake is searched for her personal data, exact moments, other intakes' ids and
routing reasons; what statistics need stays in coded form."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import DateTime, text

from app import clock
from app.db import session_factory
from app.jobs import retention
from app.statistics.facts import completed_weeks_pregnant, week_thursday
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, referral, seed_programmes, today

DUE = (today() + timedelta(days=150)).isoformat()
SECRETS = (
    "Samira",
    "Jansen",
    "samira",
    "jansen",
    "123456782",
    "2003-04-02",
    DUE,
    "612345678",
    "samira@example.org",
    "3073",
    "Verloskundige De Vries",
    "104567890",
    "praktijk@example.org",
    "schulden",
    "Gebeld",
    "Thuisbezoek",
    "Eerder aangemeld",
    # The partner (issue 16) and the reason of a reopening.
    "Youssef",
    "Bakkali",
    "87654321",
    "youssef@example.org",
    "Terugval",
    # The case (issue 15): coordinator, involvements, meeting, agreements, notes.
    "Karin Bakker",
    "karin.bakker@example.org",
    "612345600",
    "Annemiek de Wit",
    "612345611",
    "Kraamzorg Zonnig",
    "Overleg over de schuldhulp",
    "Aanvraag schuldhulp indienen",
    "Annemiek belt",
    "Afgerond met Samira",
    "Samira vroeg om een tolk",
)
PARTNER = {"givenName": "Youssef", "familyName": "Bakkali", "phone": "+31687654321", "email": "youssef@example.org",
           "involved": True}  # fmt: skip
REASON_PATTERN = re.compile(r"age \d|\d+ weeks|weken|≤|≥|jaar|years|\d+\+\d")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    return {role: await auth_for(client, role) for role in ("referrer", "staff", "mvr")}


async def rows_of(db, intake_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that belongs to the intake (its own records and its facts)."""
    found: dict[str, list[dict[str, Any]]] = {}
    own = [t.name for t in retention.own_record_tables()] + ["intake_facts"]
    for name in ["intakes", *own]:
        key = "id" if name == "intakes" else "intake_id"
        rows = await db.execute(text(f"SELECT * FROM {name} WHERE {key} = :i"), {"i": intake_id})
        found[name] = [dict(r._mapping) for r in rows.all()]
    return found


def as_text(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


async def test_erasure_leaves_only_the_anonymous_remainder(client, db, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    # An earlier intake of hers, closed: the new one links to it (a return), both ways.
    earlier = (await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])).json()["id"]
    await act(client, staff, f"/api/v1/intakes/{earlier}/close", {"reason": "unreachable"})
    body = referral(**{"pregnancy.dueDate": DUE, "concerns": ["debts", "stress"]}, partner=PARTNER)
    body["consent"]["scopes"].append("research")
    first = (await client.post("/api/v1/referrals", json=body, headers=actors["referrer"])).json()["id"]
    assert (await client.get(f"/api/v1/intakes/{first}", headers=staff)).json()["previousIntakes"] == [earlier]
    # Closed and reopened (aftercare), with a reason that names her.
    await act(client, staff, f"/api/v1/intakes/{first}/close", {"reason": "no_support_needed"})
    await act(client, staff, f"/api/v1/intakes/{first}/reopen", {"reason": "Terugval: Samira belde zelf."})
    second_body = referral(**{"pregnancy.dueDate": DUE, "narrative": "Eerder aangemeld bij de huisarts."})
    second = (await client.post("/api/v1/referrals", json=second_body, headers=actors["referrer"])).json()["id"]
    base = f"/api/v1/intakes/{first}"
    assert second in (await client.get(base, headers=staff)).json()["possibleDuplicates"]

    await act(
        client,
        staff,
        f"{base}/contacts",
        {"at": now_iso(), "channel": "phone", "reached": False, "note": "Gebeld, geen gehoor."},
    )
    await act(
        client,
        staff,
        f"{base}/contacts",
        {"at": now_iso(), "channel": "phone", "reached": True, "note": "Gebeld met Samira."},
    )
    await act(
        client,
        staff,
        f"{base}/assessment",
        {
            "visitedAt": now_iso(),
            "location": "home",
            "concerns": ["domestic_violence", "housing_problem"],
            "safetyConcern": False,
            "notes": "Thuisbezoek bij Samira Jansen, 3073 AB.",
        },
    )
    # The case around her: coordinator, someone involved, a meeting with an agreement, a note.
    r = await client.put(
        f"{base}/coordinator",
        json={"name": "Karin Bakker", "phone": "0612345600", "email": "karin.bakker@example.org", "userId": "k.bakker"},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    await act(
        client,
        staff,
        f"{base}/involvements",
        {
            "role": "wijkteam",
            "organisationName": "Wijkteam Noord",
            "professionalName": "Annemiek de Wit",
            "phone": "0612345611",
        },
        201,
    )
    await act(
        client,
        staff,
        f"{base}/involvements",
        {"role": "kraamzorg", "organisationName": "Kraamzorg Zonnig", "professionalName": "Ineke"},
        201,
    )
    meeting = await act(
        client,
        staff,
        f"{base}/case-meetings",
        {
            "at": now_iso(),
            "participants": [
                {"role": "wijkteam", "organisationName": "Wijkteam Noord", "professionalName": "Annemiek de Wit"}
            ],
            "summary": "Overleg over de schuldhulp.",
            "agreements": [{"what": "Aanvraag schuldhulp indienen", "owner": "Annemiek belt", "dueDate": DUE}],
        },
        201,
    )
    await act(
        client,
        staff,
        f"{base}/agreements/{meeting['agreements'][0]['id']}/done",
        {"at": now_iso(), "note": "Afgerond met Samira."},
    )
    await act(client, staff, f"{base}/notes", {"text": "Samira vroeg om een tolk."}, 201)
    routed = await act(client, staff, f"{base}/routing", {})
    assert REASON_PATTERN.search(as_text(routed["routing"])), routed["routing"]  # reasons name ages and weeks
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    await act(client, mvr, f"/api/v1/handoffs/{handoff['id']}/decline", {"reason": "Samira woont buiten ons gebied."})
    # The second referral is merged into the first: a link both ways.
    await act(client, staff, f"/api/v1/intakes/{second}/merge", {"into": first})

    async with session_factory()() as session:
        live = (await session.execute(text("SELECT * FROM intake_facts WHERE intake_id = :i"), {"i": first})).one()
    received_on = clock.today_local().date()
    assert live.received_on == received_on and live.received_week == week_thursday(received_on)
    assert live.age_years == 23 and live.weeks_pregnant == completed_weeks_pregnant(
        date.fromisoformat(DUE), received_on
    )
    assert live.referrer_role == "midwife" and live.source == "referral"
    assert live.concerns_at_registration == ["debts", "stress"]
    assert {c["code"]: c["source"] for c in live.concerns}["domestic_violence"] == "assessment"
    assert (live.contacted, live.contact_attempts, live.assessed, live.assessed_at_home) == (True, 2, True, True)
    assert live.programmes_offered == ["moeders-van-rotterdam"] and live.programmes_declined == [
        "moeders-van-rotterdam"
    ]
    assert live.phases["response"]["state"] == "met_on_time" and live.phases["response"]["workingDays"] == 0
    assert live.research_consent is True

    intake = (await client.get(base, headers=staff)).json()
    processing = next(c["id"] for c in intake["consents"] if c["scope"] == "processing")
    r = await client.post(
        f"{base}/consents/{processing}/withdraw", json={"at": now_iso(), "note": "Samira belde."}, headers=staff
    )
    assert r.status_code == 201, r.text
    async with session_factory()() as session:
        assert await retention.erase_due(session, clock.now()) == 1
        await session.commit()

    found = await rows_of(db, first)
    assert found["intakes"] and found["intake_contacts"] and found["intake_assessments"] and found["handoffs"]
    for table in ("case_coordinators", "case_involvements", "case_meetings", "case_agreements", "case_notes"):
        assert found[table], table
    assert found["case_meetings"][0]["participants"] == []
    everything = as_text(found)
    assert found["intake_reopenings"]  # the reopening's row stays, without its reason
    for secret in (*SECRETS, second, earlier):
        assert secret not in everything, secret
    assert not REASON_PATTERN.search(as_text(found["intakes"][0]["routing"])), found["intakes"][0]["routing"]
    for table, rows in found.items():
        columns = {c.name: c for c in retention.Base.metadata.tables[table].columns}
        for row in rows:
            for name, value in row.items():
                if isinstance(columns[name].type, DateTime) and value is not None:
                    local = value.astimezone(clock.AMSTERDAM)
                    assert (local.weekday(), local.hour, local.minute) == (3, 12, 0), (table, name, value)
                elif isinstance(value, date) and not isinstance(value, datetime):
                    assert value.weekday() == 3, (table, name, value)  # only weeks (their Thursday)
            for day in DATE_PATTERN.findall(as_text({k: v for k, v in row.items() if not isinstance(v, datetime)})):
                assert date.fromisoformat(day).weekday() == 3, (table, day)
    # Links the other intake had to this one are gone too.
    other = (
        await db.execute(text("SELECT possible_duplicates, merged_into FROM intakes WHERE id = :i"), {"i": second})
    ).one()
    assert other.possible_duplicates == [] and other.merged_into is None
    links = (
        await db.execute(text("SELECT later_intakes, previous_intakes FROM intakes WHERE id = :i"), {"i": earlier})
    ).one()
    assert [str(i) for i in links.later_intakes] == [second] and links.previous_intakes == []  # erased link gone
    # Outbox events keep codes only.
    events = (await db.execute(text("SELECT data FROM events WHERE intake_id = :i"), {"i": first})).scalars().all()
    assert (
        events and second not in as_text(events) and "dueAt" not in as_text(events) and "Samira" not in as_text(events)
    )

    # What statistics need stays, coded; the exact date goes, the week stays.
    facts = found["intake_facts"][0]
    assert facts["erased"] is True and facts["received_on"] is None
    assert facts["received_week"] == week_thursday(received_on)
    assert facts["age_years"] == 23 and facts["weeks_pregnant"] == live.weeks_pregnant
    assert facts["concerns_at_registration"] == ["debts", "stress"] and facts["close_reason"] == "consent_withdrawn"
    assert facts["programmes_declined"] == ["moeders-van-rotterdam"] and facts["referrer_role"] == "midwife"
    # Staff still see the remainder, without a 500.
    erased = (await client.get(base, headers=staff)).json()
    assert erased["erased"] is True and erased["possibleDuplicates"] == []
    assert erased["partner"] is None and erased["previousIntakes"] == [] and erased["laterIntakes"] == []
    recommendation = erased["routing"]["recommendation"]
    assert recommendation["programme"] and recommendation["reasons"] == []
    assert all(entry["reasons"] == [] for entry in recommendation["alternatives"] + recommendation["excluded"])


@pytest.mark.parametrize(
    ("moment", "thursday"),
    [
        ("2026-01-01T10:00:00+01:00", "2026-01-01"),  # a Thursday: its own week, 2026-W01
        ("2025-12-29T00:30:00+01:00", "2026-01-01"),  # Monday of 2026-W01: counted in 2026
        ("2027-01-01T09:00:00+01:00", "2026-12-31"),  # Friday of 2026-W53: counted in 2026
        ("2027-01-03T23:59:00+01:00", "2026-12-31"),  # Sunday of 2026-W53
        ("2027-01-04T00:00:00+01:00", "2027-01-07"),  # Monday of 2027-W01
        ("2026-03-29T01:30:00+00:00", "2026-03-26"),  # the night clocks go forward (Sunday)
        ("2026-10-25T01:30:00+00:00", "2026-10-22"),  # the night clocks go back (Sunday)
        ("2026-11-29T23:30:00+00:00", "2026-12-03"),  # Monday 00:30 local, still Sunday in UTC
    ],
)
async def test_week_rounding_in_sql_and_python_agree(db, moment: str, thursday: str) -> None:
    at = datetime.fromisoformat(moment)
    expected = date.fromisoformat(thursday)
    assert week_thursday(at.astimezone(clock.AMSTERDAM).date()) == expected
    assert retention.week_moment(at).date() == expected
    rounded = await db.scalar(
        text(
            "SELECT timezone('Europe/Amsterdam', "
            "date_trunc('week', timezone('Europe/Amsterdam', :m)) + interval '3 days 12 hours')"
        ),
        {"m": at},
    )
    assert rounded == retention.week_moment(at) and rounded.astimezone(UTC) == retention.week_moment(at).astimezone(UTC)
