"""The form's pure parts, directly: dates as people write them, the body the API's model
gets, errors placed on the page's fields, and the CSRF token."""

from __future__ import annotations

import pytest

from app.web import csrf
from app.web import form as fields


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("15-03-1998", "1998-03-15"),
        ("5-3-1998", "1998-03-05"),
        ("15/03/1998", "1998-03-15"),
        ("15.03.1998", "1998-03-15"),
        (" 15 03 1998 ", "1998-03-15"),
        ("1998-03-15", "1998-03-15"),
        ("31-02-1998", "31-02-1998"),  # no such day: passed on for the model to refuse
        ("maart 1998", "maart 1998"),
        ("", ""),
    ],
)
def test_dates_as_people_write_them(typed, iso):
    assert fields.iso_date(typed) == iso


def test_the_body_is_the_apis_self_registration():
    sub = fields.read(
        [
            ("givenName", "Amina"),
            ("familyName", "Haddou"),
            ("birthDate", "02-04-2003"),
            ("phone", ""),
            ("email", "amina@example.org"),
            ("postcode", "3073ab"),
            ("pregnant", "no"),
            ("youngestChild", "01-06-2025"),
            ("concerns", "debts"),
            ("concerns", "debts"),
            ("consent", "yes"),
            ("research", "yes"),
            ("bsn", "123456782"),  # not a field of the form: dropped
            ("csrf", "x"),
        ]
    )
    assert fields.body(sub, "rotterdam") == {
        "region": "rotterdam",
        "client": {
            "givenName": "Amina",
            "familyName": "Haddou",
            "birthDate": "2003-04-02",
            "email": "amina@example.org",
            "address": {"postcode": "3073ab"},
            "interpreterNeeded": False,
        },
        "pregnancy": {"pregnant": False},
        "children": [{"birthDate": "2025-06-01"}],
        "concerns": ["debts"],
        "consent": {"clientConsented": True, "scopes": ["processing", "research"]},
    }


def test_no_consent_means_no_scopes():
    sub = fields.read([("shareWithProgramme", "yes"), ("research", "yes")])
    assert fields.body(sub, None)["consent"] == {"clientConsented": False, "scopes": []}


def test_errors_follow_the_page_one_per_field():
    rendered = [
        {"name": "consent.clientConsented", "code": "consent.required", "reason": "c"},
        {"name": "client.phone", "code": "phone.format", "reason": "p"},
        {"name": "client", "code": "contact.required", "reason": "p2"},
        {"name": "client.givenName", "code": "field.required", "reason": "g"},
        {"name": "somethingElse", "code": "field.invalid", "reason": "s"},
    ]
    assert [(e.field, e.message) for e in fields.errors_by_field(rendered)] == [
        ("givenName", "g"),
        ("phone", "p"),
        ("consent", "c"),
        ("", "s"),
    ]


def test_csrf_token_is_signed_and_double_submitted():
    key = b"k" * 32
    token = csrf.new_token(key)
    assert csrf.valid(key, token, token)
    assert not csrf.valid(key, token, csrf.new_token(key))  # another page's token
    assert not csrf.valid(b"other" * 8, token, token)  # signed under another key
    nonce = token.split(".")[0]
    assert not csrf.valid(key, f"{nonce}.forged", f"{nonce}.forged")
    assert not csrf.valid(key, None, token) and not csrf.valid(key, token, None) and not csrf.valid(key, "", "")
