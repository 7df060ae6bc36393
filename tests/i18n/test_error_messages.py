"""Errors people can read: every validation rule answers with its stable `code` and a reason
in Dutch (Accept-Language prefers nl) or English; input is normalised before it is judged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.i18n import messages
from app.i18n.language import Lang, preferred
from tests.support.helpers import DELETE, auth_for, referral, seed_programmes, self_registration, today

NL = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nl", Lang.NL),
        ("nl-BE", Lang.NL),
        ("nl-NL,nl;q=0.9,en;q=0.8", Lang.NL),
        ("en-GB,en;q=0.9,nl;q=0.8", Lang.EN),
        ("en;q=0.5, nl;q=0.6", Lang.NL),
        ("de, nl;q=0.2", Lang.NL),
        ("fr, de", Lang.EN),
        ("nl;q=0", Lang.EN),
        ("en;q=0, *", Lang.NL),
        ("*", Lang.EN),
        ("nl;q=abc, en;q=0.1", Lang.EN),
        ("", Lang.EN),
        (None, Lang.EN),
    ],
)
def test_accept_language_with_q_values(header, expected):
    assert preferred(header) == expected


def test_documented_codes_are_the_catalogue():
    path = Path(__file__).resolve().parents[2] / "docs" / "error-codes.md"
    assert path.read_text() == messages.document(), "run: .venv/bin/python -m app.i18n.messages > docs/error-codes.md"


def test_every_code_has_both_languages():
    for code, msg in messages.CODES.items():
        assert msg.en and msg.nl and msg.en != msg.nl, code


@pytest.fixture
async def referrer(client):
    await seed_programmes()
    return await auth_for(client, "referrer")


# (change to a valid referral, field, code): the rules of DOMAIN.md "Validation" and the rest.
REFERRAL_RULES = [
    ({"client.bsn": "123456789"}, "client.bsn", "bsn.elfproef"),
    ({"client.bsn": "12345678"}, "client.bsn", "bsn.elfproef"),
    ({"client.address": {"postcode": "0123 AB"}}, "client.address.postcode", "postcode.format"),
    ({"client.address": {"postcode": "3073 SS"}}, "client.address.postcode", "postcode.format"),
    ({"pregnancy.dueDate": (today() + timedelta(days=301)).isoformat()}, "pregnancy.dueDate", "dueDate.range"),
    ({"pregnancy.dueDate": (today() - timedelta(days=31)).isoformat()}, "pregnancy.dueDate", "dueDate.range"),
    ({"client.phone": "12"}, "client.phone", "phone.format"),
    ({"client.email": "not-an-email"}, "client.email", "email.format"),
    ({"narrative": "x" * 4001}, "narrative", "text.tooLong"),
    ({"client.givenName": "x" * 201}, "client.givenName", "text.tooLong"),
    ({"pregnancy": {"pregnant": True}}, "pregnancy.dueDate", "dueDate.required"),
    ({"pregnancy": {"pregnant": False, "dueDate": today().isoformat()}}, "pregnancy.dueDate", "dueDate.notPregnant"),
    ({"client.birthDate": "2999-01-01"}, "client.birthDate", "birthDate.past"),
    ({"client.birthDate": "02-04-2003"}, "client.birthDate", "date.format"),
    ({"children": [{"birthDate": "2999-01-01"}]}, "children[0].birthDate", "childBirthDate.range"),
    ({"client.phone": DELETE, "client.email": DELETE, "client.address": DELETE}, "client", "contact.required"),
    ({"consent.clientConsented": False}, "consent.clientConsented", "consent.referral"),
    ({"consent.scopes": ["share_with_programme"]}, "consent.scopes", "consent.processing"),
    ({"consent.obtainedAt": "2999-01-01T10:00:00+01:00"}, "consent.obtainedAt", "consent.obtainedAt.future"),
    (
        {"consent.clientConsented": False, "legalBasis": "meldcode", "justification": "te kort"},
        "justification",
        "justification.required",
    ),
    (
        {"consent.clientConsented": False, "legalBasis": "meldcode", "justification": "Acute zorgen, al weken lang."},
        "safetyConcern",
        "safetyConcern.required",
    ),
    ({"client.familyName": DELETE}, "client.familyName", "field.required"),
    ({"client.familyName": "   "}, "client.familyName", "field.required"),
    ({"unexpectedField": 1}, "unexpectedField", "field.unknown"),
    ({"pregnancy.pregnant": "misschien"}, "pregnancy.pregnant", "field.boolean"),
    ({"consent.method": "telepathy"}, "consent.method", "field.choice"),
    ({"concerns": ["debts", "witchcraft"]}, "concerns[1]", "field.choice"),
    ({"client.address": {"houseNumber": "12a"}}, "client.address.houseNumber", "houseNumber.format"),
    ({"client.givenName": "Sa\x00mira"}, "client.givenName", "text.nul"),
    ({"client.interpreterNeeded": [1]}, "client.interpreterNeeded", "field.boolean"),
]


def _found(response, field, code):
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    matches = [p for p in body["invalidParams"] if p["name"] == field and p["code"] == code]
    assert matches, body["invalidParams"]
    return body, matches[0]


@pytest.mark.parametrize(("change", "field", "code"), REFERRAL_RULES)
async def test_each_rule_has_its_code_in_dutch_and_english(client, referrer, change, field, code):
    nl_body, nl = _found(
        await client.post("/api/v1/referrals", json=referral(**change), headers={**referrer, **NL}), field, code
    )
    en_body, en = _found(
        await client.post("/api/v1/referrals", json=referral(**change), headers={**referrer, **EN}), field, code
    )
    assert nl["reason"] != en["reason"]
    assert nl["reason"].split("{")[0][:12] == messages.reason(code, Lang.NL, field).split("{")[0][:12]
    assert en["reason"].split("{")[0][:12] == messages.reason(code, Lang.EN, field).split("{")[0][:12]
    assert "{" not in nl["reason"] and "{" not in en["reason"], "arguments filled in"
    assert (
        nl_body["detail"] == "Een of meer velden zijn niet goed ingevuld." and nl_body["title"] == "Niet goed ingevuld"
    )
    assert en_body["detail"] == "One or more fields are invalid." and en_body["status"] == 400
    no_header = await client.post("/api/v1/referrals", json=referral(**change), headers=referrer)
    assert _found(no_header, field, code)[1]["reason"] == en["reason"], "English without Accept-Language"


async def test_all_errors_at_once_keep_the_problem_shape(client, referrer):
    body = referral(**{"client.bsn": "123456789", "client.email": "x", "client.address": {"postcode": "12"}})
    r = await client.post("/api/v1/referrals", json=body, headers={**referrer, **NL})
    problem = r.json()
    assert r.status_code == 400 and problem["type"].endswith("/invalid-input")
    assert {(p["name"], p["code"]) for p in problem["invalidParams"]} >= {
        ("client.bsn", "bsn.elfproef"),
        ("client.email", "email.format"),
        ("client.address.postcode", "postcode.format"),
    }
    assert all(set(p) == {"name", "code", "reason"} for p in problem["invalidParams"])


SELF_RULES = [
    ({"consent": {"clientConsented": False, "scopes": []}}, "consent.clientConsented", "consent.required"),
    ({"consent": {"clientConsented": True, "scopes": ["research"]}}, "consent.scopes", "consent.processing"),
    ({"message": "x" * 4001}, "message", "text.tooLong"),
    ({"contactPreference": "pigeon"}, "contactPreference", "field.choice"),
    ({"region": "atlantis"}, "region", "region.unknown"),
]


@pytest.mark.parametrize(("change", "field", "code"), SELF_RULES)
async def test_self_registration_rules(client, change, field, code):
    nl = _found(
        await client.post("/api/v1/self-registrations", json=self_registration(**change), headers=NL), field, code
    )
    en = _found(
        await client.post("/api/v1/self-registrations", json=self_registration(**change), headers=EN), field, code
    )
    assert nl[1]["reason"] != en[1]["reason"]


async def test_a_bsn_sent_by_mistake_gets_a_human_message(client):
    body = self_registration()
    body["client"]["bsn"] = "123456782"
    r = await client.post("/api/v1/self-registrations", json=body, headers=NL)
    _, param = _found(r, "client.bsn", "bsn.notAsked")
    assert "Extra inputs" not in param["reason"] and "BSN" in param["reason"]
    assert param["reason"] == messages.CODES["bsn.notAsked"].nl
    r = await client.post("/api/v1/self-registrations", json=body)
    assert _found(r, "client.bsn", "bsn.notAsked")[1]["reason"] == messages.CODES["bsn.notAsked"].en


async def test_normalised_before_judged(client):
    await seed_programmes()
    body = self_registration(
        client={
            "givenName": "  Samira ",
            "familyName": " El  Amrani",
            "birthDate": "2003-04-02",
            "phone": "06 1234 5678",
            "address": {"postcode": "3073ab", "houseNumber": " 12 ", "city": " Rotterdam "},
        }
    )
    r = await client.post("/api/v1/self-registrations", json=body, headers=NL)
    assert r.status_code == 202, r.text
    assert r.json()["message"].startswith("Dank je wel")
    staff = await auth_for(client, "staff")
    page = (await client.get("/api/v1/intakes", headers=staff)).json()["items"]
    intake = (await client.get(f"/api/v1/intakes/{page[0]['id']}", headers=staff)).json()
    person = intake["client"]
    assert person["givenName"] == "Samira" and person["familyName"] == "El Amrani"
    assert person["phone"] == "+31612345678"
    assert person["address"] == {
        "postcode": "3073 AB",
        "houseNumber": "12",
        "houseNumberSuffix": None,
        "city": "Rotterdam",
    }
    english = await client.post("/api/v1/self-registrations", json=self_registration(), headers=EN)
    assert english.json()["message"].startswith("Thank you")


@pytest.mark.parametrize("postcode", ["3073ab", "3073 ab", " 3073  AB ", "3073AB"])
async def test_postcode_spellings_are_read(client, referrer, postcode):
    r = await client.post(
        "/api/v1/referrals", json=referral(**{"client.address": {"postcode": postcode}}), headers=referrer
    )
    assert r.status_code == 201, r.text


async def test_region_required_when_several(client, app):
    app.state.tenancy.codes.append("utrecht")  # only the list of codes matters for this check
    try:
        body = self_registration()
        _, nl = _found(
            await client.post("/api/v1/self-registrations", json=body, headers=NL), "region", "region.required"
        )
        assert "rotterdam, utrecht" in nl["reason"] and nl["reason"].startswith("Kies")
    finally:
        app.state.tenancy.codes.remove("utrecht")


async def test_the_rate_limit_speaks_her_language(client, app):
    app.state.settings.self_registration_rate = 0
    r = await client.post("/api/v1/self-registrations", json=self_registration(), headers=NL)
    assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == messages.TEXTS["rate-limited.detail"].nl
    r = await client.post("/api/v1/self-registrations", json=self_registration(), headers=EN)
    assert r.json()["detail"] == messages.TEXTS["rate-limited.detail"].en


async def test_choice_options_carry_no_english_words_in_dutch(client):
    # Pydantic lists a Literal's values as "'phone', 'email' or 'whatsapp'"; that "or" ended up
    # in the Dutch reason ("Kies een van de mogelijkheden: phone, email or whatsapp.").
    body = self_registration(contactPreference="pigeon")
    _, nl = _found(
        await client.post("/api/v1/self-registrations", json=body, headers=NL), "contactPreference", "field.choice"
    )
    assert nl["reason"] == "Kies een van de mogelijkheden: phone, email, whatsapp.", nl["reason"]
    _, en = _found(
        await client.post("/api/v1/self-registrations", json=body, headers=EN), "contactPreference", "field.choice"
    )
    assert en["reason"] == "Choose one of the options: phone, email, whatsapp.", en["reason"]
