"""The form at /aanmelden without a browser: strict CSP and no inline script or style on any
page, CSRF, the same rules, rate limit and transaction as the JSON self-registration,
regions, and kept out of the OpenAPI document. (The browser tests are in tests/browser.)"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import text

from app.main import create_app
from tests.support.helpers import seed_programmes, today

FORM = "application/x-www-form-urlencoded"


class _Inline(HTMLParser):
    """Finds inline script, inline style and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag in ("script", "style"):
            self.found.append(f"<{tag}>")
        if "style" in names:
            self.found.append(f"style= on <{tag}>")
        self.found += [f"{name}= on <{tag}>" for name in names if name.startswith("on")]
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name == "href" and value and value.startswith("javascript:"):
                self.found.append("javascript: link")
            if name == "href" and value and value.startswith("#"):
                self.links.append(value[1:])


def assert_strict(response) -> _Inline:
    csp = response.headers["content-security-policy"]
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";")}
    assert directives["default-src"] == "default-src 'none'", csp  # no script from anywhere
    assert "script-src" not in directives, csp
    assert directives["style-src"] == "style-src 'self'", csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "nonce-" not in csp
    assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers.get_list("content-security-policy") == [csp], "one policy, not the API's next to it"
    parser = _Inline()
    parser.feed(response.text)
    assert parser.found == [], parser.found
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.text
    return parser


def token_of(response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', response.text)
    assert match
    return match.group(1)


def filled(**changes: str | list[str]) -> dict[str, str | list[str]]:
    due = today() + timedelta(days=150)
    values: dict[str, str | list[str]] = {
        "givenName": "  Amina ",
        "familyName": "Haddou",
        "birthDate": "02-04-2003",
        "phone": "06 1234 5678",
        "postcode": "3073ab",
        "houseNumber": "12",
        "pregnant": "yes",
        "dueDate": due.strftime("%d-%m-%Y"),
        "firstChild": "yes",
        "contactPreference": "whatsapp",
        "concerns": ["debts", "social_isolation"],
        "consent": "yes",
        "shareWithProgramme": "yes",
    }
    values.update(changes)
    return values


async def post_form(client, data, token, path="/aanmelden"):
    return await client.post(path, data={**data, "csrf": token}, headers={"content-type": FORM})


async def test_every_page_state_is_strict_and_without_inline_code(client):
    await seed_programmes()
    empty = await client.get("/aanmelden")
    assert empty.status_code == 200 and empty.headers["content-type"].startswith("text/html")
    assert_strict(empty)
    assert 'lang="nl"' in empty.text and "Meld u aan" in empty.text
    english = await client.get("/aanmelden?lang=en")
    assert_strict(english)
    assert 'lang="en"' in english.text and "Register for support" in english.text
    errors = await post_form(client, filled(familyName="", birthDate="31-02-1998", consent=""), token_of(empty))
    assert errors.status_code == 400
    parser = assert_strict(errors)
    # The summary links to fields that exist; she keeps what she typed.
    assert parser.links and set(parser.links) - {"main"} <= parser.ids, parser.links
    assert {"familyName", "birthDate", "consent"} <= set(parser.links)
    assert 'value="  Amina "' in errors.text and 'value="31-02-1998"' in errors.text
    assert "Vul uw achternaam in." in errors.text and "<title>Fout: " in errors.text
    done = await post_form(client, filled(), token_of(errors))
    assert done.status_code == 200, done.text
    assert_strict(done)
    assert re.search(r'id="reference">AMP-[0-9A-Z]+<', done.text)
    assert "werkdag" in done.text and "WhatsApp" in done.text
    assert_strict(await client.get("/aanmelden/privacy"))
    css = await client.get("/aanmelden/form.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_the_form_stores_through_the_same_transaction(client, db):
    await seed_programmes()
    page = await client.get("/aanmelden")
    done = await post_form(client, filled(research="yes"), token_of(page))
    reference = re.search(r'id="reference">([^<]+)<', done.text).group(1)
    row = (
        await db.execute(
            text(
                "SELECT id, source, client, pregnancy, concerns, contact_preference FROM intakes WHERE reference = :r"
            ),
            {"r": reference},
        )
    ).one()
    assert row.source == "self_registration" and row.contact_preference == "whatsapp"
    assert row.client["givenName"] == "Amina" and row.client["phone"] == "+31612345678"
    assert row.client["address"] == {"postcode": "3073 AB", "houseNumber": "12"}
    assert row.pregnancy["pregnant"] is True and row.pregnancy["firstChild"] is True
    assert [c["code"] for c in row.concerns] == ["debts", "social_isolation"]
    scopes = (await db.execute(text("SELECT scope FROM consents WHERE intake_id = :i"), {"i": row.id})).scalars()
    assert set(scopes) == {"processing", "share_with_programme", "research"}
    audit = (
        await db.execute(text("SELECT action, client_id FROM access_log WHERE intake_id = :i"), {"i": row.id})
    ).all()
    assert [(a.action, a.client_id) for a in audit] == [("create", "self-registration")]
    events = (await db.execute(text("SELECT type FROM events WHERE intake_id = :i"), {"i": row.id})).scalars()
    assert list(events) == ["intake.received"]


async def test_csrf_is_required(client, db):
    await seed_programmes()
    page = await client.get("/aanmelden")
    assert "aanmelden_csrf" in page.headers["set-cookie"] and "samesite=strict" in page.headers["set-cookie"].lower()
    assert "httponly" in page.headers["set-cookie"].lower()
    for token in ("", "forged.token", token_of(page) + "x"):
        r = await post_form(client, filled(), token)
        assert r.status_code == 403, token
        assert_strict(r)
        assert 'value="  Amina "' in r.text, "what she typed is kept"
    client.cookies.clear()
    r = await post_form(client, filled(), token_of(page))  # the field without its cookie
    assert r.status_code == 403
    count = await db.scalar(text("SELECT count(*) FROM intakes"))
    assert count == 0
    # Sent twice (back button, reload): the first registers, the second is refused.
    page = await client.get("/aanmelden")
    assert (await post_form(client, filled(), token_of(page))).status_code == 200
    assert (await post_form(client, filled(), token_of(page))).status_code == 403
    assert await db.scalar(text("SELECT count(*) FROM intakes")) == 1


async def test_same_rules_and_messages_as_the_api(client):
    await seed_programmes()
    page = await client.get("/aanmelden?lang=en")
    r = await post_form(
        client,
        filled(phone="12", postcode="0123 AB", dueDate="01-01-2020", givenName=" ", message="x" * 4001),
        token_of(page),
        "/aanmelden?lang=en",
    )
    assert r.status_code == 400
    for sentence in (
        "Fill in your first name.",
        "This phone number is not right.",
        "Write a Dutch postcode as 4 digits and 2 letters",
        "The due date must be between 30 days ago and 300 days from today.",
        "Use at most 4000 characters.",
    ):
        assert sentence in r.text, sentence


async def test_no_bsn_field_and_only_what_self_registration_needs(client):
    page = await client.get("/aanmelden")
    assert "bsn" not in page.text.lower().replace("geen bsn", "")
    names = set(re.findall(r'name="([^"]+)"', page.text)) - {"viewport"}
    assert names == {
        "csrf", "givenName", "familyName", "birthDate", "pregnant", "dueDate", "firstChild", "youngestChild",
        "phone", "email", "contactPreference", "preferredLanguage", "interpreterNeeded", "postcode",
        "houseNumber", "houseNumberSuffix", "city", "concerns", "message", "consent", "shareWithProgramme",
        "research",
    }  # fmt: skip


async def test_same_rate_limit_as_the_api(client, app):
    app.state.settings.self_registration_rate = 2
    await seed_programmes()
    page = await client.get("/aanmelden")
    from tests.support.helpers import self_registration

    assert (await client.post("/api/v1/self-registrations", json=self_registration())).status_code == 202
    assert (await post_form(client, filled(), token_of(page))).status_code == 200
    page = await client.get("/aanmelden")
    blocked = await post_form(client, filled(), token_of(page))
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert_strict(blocked)
    assert "Te veel aanmeldingen" in blocked.text
    assert (await client.post("/api/v1/self-registrations", json=self_registration())).status_code == 429


def test_the_form_is_not_in_the_openapi_document(app):
    from app.openapi import build_openapi

    assert not [path for path in build_openapi(app)["paths"] if "aanmelden" in path]


async def test_several_regions_ask_where_she_lives(settings):
    import httpx

    from app.db import session_factory

    app = create_app(settings.model_copy(update={"regions": "rotterdam,utrecht"}))
    async with app.router.lifespan_context(app):
        await seed_programmes("rotterdam", "utrecht")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            choose = await client.get("/aanmelden")
            assert choose.status_code == 200 and "Waar woont u?" in choose.text
            assert 'href="/aanmelden?region=rotterdam"' in choose.text
            assert 'href="/aanmelden?region=utrecht"' in choose.text
            assert_strict(choose)
            page = await client.get("/aanmelden?region=utrecht")
            assert "Wijknetwerken Utrecht en Amersfoort" in page.text
            assert 'action="/aanmelden?region=utrecht"' in page.text
            done = await post_form(client, filled(postcode="3583 AB"), token_of(page), "/aanmelden?region=utrecht")
            assert done.status_code == 200, done.text
            assert "aanmeldpunt van Wijknetwerken Utrecht en Amersfoort" in done.text
            assert "Waar woont u?" in (await client.get("/aanmelden?region=atlantis")).text
        async with session_factory()() as db:
            assert await db.scalar(text("SELECT region FROM intakes")) == "utrecht"


async def test_error_answers_near_the_form_are_strict_too(client):
    # A mistyped address, a wrong method, a pasted novel or another content type gets a
    # problem+json answer from before any page code runs; it had only `frame-ancestors 'none'`.
    answers = [
        await client.get("/aanmelden/nope"),
        await client.get("/aanmelden/"),
        await client.put("/aanmelden"),
        await client.post("/aanmelden", content=b"message=" + b"x" * 300_000, headers={"content-type": FORM}),
        await client.post("/aanmelden", json={"givenName": "Amina"}),
        await client.get("/api/v1/nothing-here"),
    ]
    for r in answers:
        assert r.status_code in (404, 405, 413, 415), r.status_code
        csp = r.headers.get_list("content-security-policy")
        assert len(csp) == 1 and "default-src 'none'" in csp[0] and "frame-ancestors 'none'" in csp[0], (r.url, csp)


async def test_the_house_number_message_names_a_field_of_the_page(client):
    # "A letter or addition goes in 'suffix'" sent her to a field the English form does not have
    # (it is called "Addition" there).
    for query, label in (("", "Toevoeging"), ("?lang=en", "Addition")):
        page = await client.get("/aanmelden" + query)
        assert f'<label class="label" for="houseNumberSuffix">{label} ' in page.text
        r = await post_form(client, filled(houseNumber="12a"), token_of(page), "/aanmelden" + query)
        assert r.status_code == 400
        message = re.search(r'id="houseNumber-error">.*?</span> ([^<]+)</p>', r.text).group(1)
        assert f"&#39;{label.lower()}&#39;" in message.lower(), message
