"""Issue 13, point 13: the meldcode without consent needs four eyes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.auth.models import Organisation
from app.consent.rules import Person, confirm_refusal, same_person
from app.webhooks.models import Delivery, Event, Subscription
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, make_client, referral, seed_programmes, token

JUSTIFICATION = "Huiselijk geweld gezien bij huisbezoek; veiligheid ongeboren kind in het geding."


def test_same_person_needs_the_same_sub_and_user() -> None:
    assert same_person(Person("c1", None), Person("c1", None))
    assert same_person(Person("c1", "anna"), Person("c1", "anna"))
    assert not same_person(Person("c1", "anna"), Person("c1", "bram"))
    assert not same_person(Person("c1", None), Person("c2", None))
    assert not same_person(Person("c1", None), Person("c1", "anna"))


def test_confirm_refusal() -> None:
    anna, bram = Person("c1", "anna"), Person("c1", "bram")
    assert confirm_refusal("pending", anna, anna) == "four-eyes"
    assert confirm_refusal("pending", anna, bram) is None
    assert confirm_refusal("confirmed", anna, bram) == "already-confirmed"


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    roles = ("admin", "referrer", "staff", "mvr")
    found = {role: await auth_for(client, role) for role in roles}
    # A second staff user: another client of the aanmeldpunt (another `sub`).
    found["staff2"] = await auth_for(client, "staff")
    return found


async def without_share_consent(client, actors) -> str:
    """A routed intake with a safety concern whose `share_with_programme` was withdrawn."""
    staff = actors["staff"]
    r = await client.post("/api/v1/referrals", json=referral(safetyConcern=True), headers=actors["referrer"])
    assert r.status_code == 201, r.text
    base = f"/api/v1/intakes/{r.json()['id']}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    intake = (await client.get(base, headers=staff)).json()
    share = next(c["id"] for c in intake["consents"] if c["scope"] == "share_with_programme")
    r = await client.post(f"{base}/consents/{share}/withdraw", json={"at": now_iso()}, headers=staff)
    assert r.status_code == 201, r.text
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    return base


async def offer_refused(client, staff, base: str) -> None:
    r = await client.post(f"{base}/handoffs", json={}, headers=staff)
    assert r.status_code == 409 and r.json()["type"].endswith("/consent-required"), r.text


async def etag_of(client, staff, base: str) -> str:
    return str((await client.get(base, headers=staff)).headers["ETag"])


async def test_pending_overrides_nothing_same_user_refused_another_confirms(client, db, actors) -> None:
    staff, staff2, mvr = actors["staff"], actors["staff2"], actors["mvr"]
    base = await without_share_consent(client, actors)
    await offer_refused(client, staff, base)

    r = await client.post(
        f"{base}/legal-basis", json={"basis": "meldcode", "justification": JUSTIFICATION}, headers=staff
    )
    assert r.status_code == 201, r.text
    pending: dict[str, Any] = r.json()
    assert pending["status"] == "pending" and pending["source"] == "staff" and pending["confirmedBy"] is None
    assert pending["requestedBy"]["organisation"] == "aanmeldpunt-rotterdam"
    assert r.headers["Location"] == f"{base}/legal-basis/{pending['id']}"
    assert r.headers["ETag"] == await etag_of(client, staff, base)

    # Pending overrides nothing.
    assert (await client.get(base, headers=staff)).json()["legalBasis"] == "consent"
    await offer_refused(client, staff, base)
    # A second request while one waits: 409.
    again = await client.post(
        f"{base}/legal-basis", json={"basis": "meldcode", "justification": JUSTIFICATION}, headers=staff2
    )
    assert again.status_code == 409 and again.json()["type"].endswith("/legal-basis-pending")

    confirm = f"{base}/legal-basis/{pending['id']}/confirm"
    # The same user (same sub; also with a fresh token) cannot confirm her own request.
    same = await client.post(confirm, headers=staff)
    assert same.status_code == 409 and same.json()["type"].endswith("/four-eyes-required"), same.text
    assert same.headers["content-type"].startswith("application/problem+json")
    await offer_refused(client, staff, base)
    # Only staff confirm (a programme token lacks the scope); an unknown record is 404.
    assert (await client.post(confirm, headers=mvr)).status_code == 403
    unknown = await client.post(f"{base}/legal-basis/{'0' * 8}-0000-4000-8000-{'0' * 12}/confirm", headers=staff2)
    assert unknown.status_code == 404

    # If-Match honoured: a stale tag is 412, the current one goes through.
    stale = await client.post(confirm, headers={**staff2, "If-Match": '"1"'})
    assert stale.status_code == 412, stale.text
    r = await client.post(confirm, headers={**staff2, "If-Match": await etag_of(client, staff, base)})
    assert r.status_code == 200, r.text
    confirmed = r.json()
    assert confirmed["status"] == "confirmed" and confirmed["confirmedBy"]["client"] != pending["requestedBy"]["client"]
    assert confirmed["confirmedAt"] is not None

    # Now it overrides the withdrawn consent.
    intake = (await client.get(base, headers=staff)).json()
    assert intake["legalBasis"] == "meldcode"
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    assert (await client.get(base, headers=mvr)).status_code == 200
    assert handoff["status"] == "offered"
    # Confirming twice, or asking again once it applies: 409.
    twice = await client.post(confirm, headers=staff2)
    assert twice.status_code == 409 and twice.json()["type"].endswith("/already-confirmed")
    again = await client.post(
        f"{base}/legal-basis", json={"basis": "meldcode", "justification": JUSTIFICATION}, headers=staff
    )
    assert again.status_code == 409 and again.json()["type"].endswith("/legal-basis-applies")

    # Rows for the case file: who asked, who confirmed, when, why.
    items = (await client.get(f"{base}/legal-basis", headers=staff)).json()["items"]
    assert len(items) == 1 and items[0]["justification"] == JUSTIFICATION and items[0]["status"] == "confirmed"

    # Audit: an update row for the request and one with the meldcode basis for the confirmation.
    log = (await client.get(f"{base}/access-log", headers=staff)).json()["items"]
    updates = [row for row in log if row["action"] == "update"]
    # request (on the consent it had), confirmation, offer (both on the meldcode); refusals wrote nothing.
    assert [row["basis"] for row in updates[-3:]] == ["processing", "meldcode", "meldcode"]

    # Events: requested and changed, for the aanmeldpunt's subscriptions only.
    types = list((await db.scalars(select(Event.type).where(Event.intake_id == base.rsplit("/", 1)[1]))).all())
    assert types.count("intake.legal_basis_requested") == 1 and types.count("intake.legal_basis_changed") == 1


async def test_legal_basis_events_reach_only_the_aanmeldpunt(client, db, actors) -> None:
    admin = actors["admin"]
    names = ("aanmeldpunt-rotterdam", "verloskundigen-zuid", "moeders-van-rotterdam")
    for organisation in names:
        r = await client.post(
            "/api/v1/webhook-subscriptions",
            json={
                "url": f"http://127.0.0.1:9/{organisation}",
                "eventTypes": ["intake.legal_basis_requested", "intake.legal_basis_changed"],
                "organisation": organisation,
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
    base = await without_share_consent(client, actors)
    r = await client.post(
        f"{base}/legal-basis", json={"basis": "meldcode", "justification": JUSTIFICATION}, headers=actors["staff"]
    )
    await act(client, actors["staff2"], f"{base}/legal-basis/{r.json()['id']}/confirm")
    rows = await db.execute(
        select(Event.type, Organisation.code)
        .join(Delivery, Delivery.event_id == Event.id)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(Organisation, Organisation.id == Subscription.organisation_id)
        .where(Event.intake_id == base.rsplit("/", 1)[1])
    )
    assert sorted(rows.all()) == [
        ("intake.legal_basis_changed", "aanmeldpunt-rotterdam"),
        ("intake.legal_basis_requested", "aanmeldpunt-rotterdam"),
    ]


async def test_request_honours_if_match_and_validates(client, actors) -> None:
    staff = actors["staff"]
    base = await without_share_consent(client, actors)
    body = {"basis": "meldcode", "justification": JUSTIFICATION}
    stale = await client.post(f"{base}/legal-basis", json=body, headers={**staff, "If-Match": '"1"'})
    assert stale.status_code == 412
    wrong = await client.post(f"{base}/legal-basis", json={"basis": "consent", "justification": "kort"}, headers=staff)
    assert wrong.status_code == 400
    assert {p["name"] for p in wrong.json()["invalidParams"]} == {"basis", "justification"}
    ok = await client.post(
        f"{base}/legal-basis", json=body, headers={**staff, "If-Match": await etag_of(client, staff, base)}
    )
    assert ok.status_code == 201


async def test_the_same_client_with_a_new_token_is_the_same_user(client, actors) -> None:
    """A second token of the same client is no second pair of eyes."""
    cid, secret = await make_client("aanmeldpunt-rotterdam", "aanmeldpunt", ["intakes:read", "intakes:write"])
    first = {"Authorization": f"Bearer {await token(client, cid, secret)}"}
    second = {"Authorization": f"Bearer {await token(client, cid, secret)}"}
    base = await without_share_consent(client, actors)
    r = await client.post(
        f"{base}/legal-basis", json={"basis": "meldcode", "justification": JUSTIFICATION}, headers=first
    )
    assert r.status_code == 201
    refused = await client.post(f"{base}/legal-basis/{r.json()['id']}/confirm", headers=second)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/four-eyes-required")
