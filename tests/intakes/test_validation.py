"""Every validation rule answers 400 problem+json naming the field; all errors at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.helpers import DELETE, auth_for, referral, seed_programmes, self_registration, today


@pytest.fixture
async def referrer(client):
    await seed_programmes()
    return await auth_for(client, "referrer")


CASES = [
    ({"client.bsn": "123456789"}, "client.bsn"),
    ({"client.bsn": "12345678"}, "client.bsn"),
    ({"client.address": {"postcode": "0123 AB"}}, "client.address.postcode"),
    ({"client.address": {"postcode": "3073 SS"}}, "client.address.postcode"),
    ({"client.address": {"postcode": "3073 A1"}}, "client.address.postcode"),
    ({"client.phone": "12"}, "client.phone"),
    ({"client.email": "not-an-email"}, "client.email"),
    ({"client.givenName": "x" * 201}, "client.givenName"),
    ({"client.familyName": DELETE}, "client.familyName"),
    ({"client.birthDate": "2999-01-01"}, "client.birthDate"),
    ({"client.birthDate": "02-04-2003"}, "client.birthDate"),
    ({"narrative": "x" * 4001}, "narrative"),
    ({"concerns": ["debts", "witchcraft"]}, "concerns[1]"),
    ({"pregnancy.pregnant": DELETE}, "pregnancy.pregnant"),
    ({"consent.scopes": ["processing", "everything"]}, "consent.scopes[1]"),
    ({"consent.method": "telepathy"}, "consent.method"),
    ({"consent": DELETE}, "consent"),
    ({"unexpectedField": 1}, "unexpectedField"),
]


@pytest.mark.parametrize(("change", "field"), CASES)
async def test_field_rules(client, referrer, change, field):
    r = await client.post("/api/v1/referrals", json=referral(**change), headers=referrer)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    names = [p["name"] for p in r.json()["invalidParams"]]
    assert field in names, names


CROSS = [
    ({"pregnancy": {"pregnant": True}}, "pregnancy.dueDate"),
    ({"pregnancy.dueDate": (today() + timedelta(days=301)).isoformat()}, "pregnancy.dueDate"),
    ({"pregnancy.dueDate": (today() - timedelta(days=31)).isoformat()}, "pregnancy.dueDate"),
    ({"client.phone": DELETE, "client.email": DELETE, "client.address": DELETE}, "client"),
    ({"consent.clientConsented": False}, "consent.clientConsented"),
    ({"consent.clientConsented": False, "legalBasis": "meldcode", "justification": "te kort"}, "justification"),
    (
        {
            "consent.clientConsented": False,
            "legalBasis": "meldcode",
            "justification": "Acute zorgen om de veiligheid van het ongeboren kind.",
        },
        "safetyConcern",
    ),
    ({"consent.scopes": ["share_with_programme"]}, "consent.scopes"),
    ({"children": [{"birthDate": "2999-01-01"}]}, "children[0].birthDate"),
]


@pytest.mark.parametrize(("change", "field"), CROSS)
async def test_cross_field_rules(client, referrer, change, field):
    r = await client.post("/api/v1/referrals", json=referral(**change), headers=referrer)
    assert r.status_code == 400, r.text
    assert field in [p["name"] for p in r.json()["invalidParams"]]


async def test_all_field_errors_at_once(client, referrer):
    r = await client.post(
        "/api/v1/referrals",
        headers=referrer,
        json=referral(**{"client.bsn": "123456789", "client.email": "x", "concerns": ["nope"]}),
    )
    names = {p["name"] for p in r.json()["invalidParams"]}
    assert {"client.bsn", "client.email", "concerns[0]"} <= names


async def test_meldcode_without_consent_is_accepted_and_flagged(client, referrer):
    body = referral(
        **{
            "consent.clientConsented": False,
            "consent.scopes": [],
            "legalBasis": "meldcode",
            "justification": "Acute zorgen om de veiligheid van het ongeboren kind.",
            "safetyConcern": True,
        }
    )
    r = await client.post("/api/v1/referrals", json=body, headers=referrer)
    assert r.status_code == 201, r.text
    staff = await auth_for(client, "staff")
    intake = (await client.get(f"/api/v1/intakes/{r.json()['id']}", headers=staff)).json()
    assert intake["legalBasis"] == "meldcode" and intake["consents"] == []
    assert intake["routing"]["recommendation"]["advice"] == ["meldcode"]


async def test_invalid_json_and_no_body(client, referrer):
    bad = await client.post(
        "/api/v1/referrals", content=b"{not json", headers={**referrer, "content-type": "application/json"}
    )
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "body"
    utf = await client.post(
        "/api/v1/referrals", content=b'{"client": "\xff\xfe"}', headers={**referrer, "content-type": "application/json"}
    )
    assert utf.status_code == 400
    deep = await client.post(
        "/api/v1/referrals",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={**referrer, "content-type": "application/json"},
    )
    assert deep.status_code in (400, 413)


async def test_oversized_body_is_413(client, referrer):
    r = await client.post("/api/v1/referrals", json=referral(narrative="x" * 300_000), headers=referrer)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"


async def test_self_registration_refuses_bsn_and_needs_consent(client):
    body = self_registration()
    body["client"]["bsn"] = "123456782"
    r = await client.post("/api/v1/self-registrations", json=body)
    assert r.status_code == 400 and "client.bsn" in [p["name"] for p in r.json()["invalidParams"]]
    r = await client.post(
        "/api/v1/self-registrations", json=self_registration(consent={"clientConsented": False, "scopes": []})
    )
    assert r.status_code == 400


async def test_self_registration_rate_limit(client, app):
    app.state.settings.self_registration_rate = 2
    await seed_programmes()
    codes = [(await client.post("/api/v1/self-registrations", json=self_registration())).status_code for _ in range(3)]
    assert codes[:2] == [202, 202]
    assert codes[2] == 429
    r = await client.post("/api/v1/self-registrations", json=self_registration())
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
