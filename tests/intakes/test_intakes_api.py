"""The foundation flow over HTTP on a real database."""

from __future__ import annotations

import pytest

from tests.support.helpers import auth_for, referral, seed_programmes, self_registration


@pytest.fixture
async def referrer(client):
    await seed_programmes()
    return await auth_for(client, "referrer")


async def test_referral_roundtrip(client, referrer):
    r = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/api/v1/referrals/{body['id']}"
    assert body["status"] == "received" and body["reference"].startswith("AMP-")
    assert "client" not in body
    got = await client.get(f"/api/v1/referrals/{body['id']}", headers=referrer)
    assert got.status_code == 200 and got.json()["id"] == body["id"]
    staff = await auth_for(client, "staff")
    intake = await client.get(f"/api/v1/intakes/{body['id']}", headers=staff)
    assert intake.status_code == 200, intake.text
    data = intake.json()
    assert data["client"]["familyName"] == "Jansen"
    assert data["source"] == "referral" and data["referrerOrganisation"] == "verloskundigen-zuid"
    assert {c["scope"] for c in data["consents"]} == {"processing", "share_with_programme", "feedback_to_referrer"}
    assert [d["phase"] for d in data["deadlines"]] == ["response", "intake", "support_start"]
    assert data["vulnerability"] == "very_vulnerable"
    assert data["routing"]["recommendation"]["programme"] == "moeders-van-rotterdam"
    assert intake.headers["etag"] == '"1"'
    for header in (
        "api-version",
        "strict-transport-security",
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "cache-control",
    ):
        assert header in intake.headers


async def test_self_registration_answers_only_a_reference(client):
    await seed_programmes()
    first = await client.post("/api/v1/self-registrations", json=self_registration())
    second = await client.post("/api/v1/self-registrations", json=self_registration())
    assert first.status_code == second.status_code == 202
    assert set(first.json()) == set(second.json()) == {"reference", "message"}
    assert first.json()["message"] == second.json()["message"]
    staff = await auth_for(client, "staff")
    listing = await client.get("/api/v1/intakes?source=self_registration", headers=staff)
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert len(items) == 2
    detail = await client.get(f"/api/v1/intakes/{items[0]['id']}", headers=staff)
    assert len(detail.json()["possibleDuplicates"]) == 1


async def test_worklist_orders_by_urgency_and_paginates(client, referrer):
    staff = await auth_for(client, "staff")
    # not pregnant: 5 working days; pregnant: 2; safety: 1
    await client.post(
        "/api/v1/referrals",
        headers=referrer,
        json=referral(
            **{"pregnancy": {"pregnant": False}, "children": [{"birthDate": "2025-06-01"}], "client.bsn": "111222333"}
        ),
    )
    await client.post("/api/v1/referrals", headers=referrer, json=referral(**{"client.bsn": "123456782"}))
    await client.post(
        "/api/v1/referrals", headers=referrer, json=referral(**{"safetyConcern": True, "client.bsn": "999990019"})
    )
    page = await client.get("/api/v1/intakes?limit=2", headers=staff)
    assert page.status_code == 200
    first = page.json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    rest = await client.get(f"/api/v1/intakes?limit=2&cursor={first['nextCursor']}", headers=staff)
    items = first["items"] + rest.json()["items"]
    assert rest.json()["nextCursor"] is None
    dues = [i["nextDeadlineAt"] for i in items]
    assert dues == sorted(dues) and len(items) == 3
    assert items[-1]["pregnant"] is False


async def test_trailing_slash_is_404_problem(client, referrer):
    r = await client.get("/api/v1/intakes/", headers=referrer)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


async def test_wrong_content_type_is_415(client, referrer):
    r = await client.post(
        "/api/v1/referrals",
        content=b"client=x",
        headers={**referrer, "content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    assert r.json()["status"] == 415


async def test_malformed_cursor_is_400(client):
    staff = await auth_for(client, "staff")
    r = await client.get("/api/v1/intakes?cursor=%%%bogus", headers=staff)
    assert r.status_code == 400
    assert r.json()["invalidParams"][0]["name"] == "cursor"


async def test_limit_bounds(client):
    staff = await auth_for(client, "staff")
    r = await client.get("/api/v1/intakes?limit=100000", headers=staff)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "limit"
