"""The social map, admin changes to it, the routing simulator, and a plugin router."""

from __future__ import annotations

import httpx

from app.main import create_app
from app.routing.router import load_router
from tests.support.helpers import auth_for, referral, seed_programmes


async def test_programmes_are_public_and_admin_can_close_intake(client) -> None:
    await seed_programmes()
    r = await client.get("/api/v1/programmes")
    assert r.status_code == 200
    codes = [p["code"] for p in r.json()["items"]]
    assert codes == sorted(["moeders-van-rotterdam", "voorzorg", "stevig-ouderschap", "home-start", "wijkteam"])
    voorzorg = next(p for p in r.json()["items"] if p["code"] == "voorzorg")
    assert voorzorg["organisation"] == "jgz-voorzorg" and voorzorg["acceptingClients"] is True
    assert "28 weken" in voorzorg["eligibility"]
    admin, staff = await auth_for(client, "admin"), await auth_for(client, "staff")
    assert (await client.patch("/api/v1/programmes/voorzorg", json={"acceptingClients": False})).status_code == 401
    r = await client.patch("/api/v1/programmes/voorzorg", json={"acceptingClients": False}, headers=staff)
    assert r.status_code == 403
    r = await client.patch("/api/v1/programmes/voorzorg", json={"acceptingClients": False}, headers=admin)
    assert r.status_code == 200 and r.json()["acceptingClients"] is False
    assert (await client.patch("/api/v1/programmes/nope", json={"name": "x"}, headers=admin)).status_code == 404
    r = await client.patch("/api/v1/programmes/voorzorg", json={"name": None, "bogus": 1}, headers=admin)
    assert r.status_code == 400 and {p["name"] for p in r.json()["invalidParams"]} >= {"bogus"}


async def test_simulate_stores_nothing_and_respects_capacity(client) -> None:
    await seed_programmes()
    staff, admin = await auth_for(client, "staff"), await auth_for(client, "admin")
    # Vulnerable (2 domains), first child, young, early in pregnancy: VoorZorg.
    body = {"intake": referral(concerns=["debts", "stress"]), "at": None}
    r = await client.post("/api/v1/routing/simulate", json=body, headers=staff)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["programme"] == "voorzorg" and result["router"] == "rules"
    assert result["vulnerability"] == "vulnerable" and result["advice"] == []
    assert any("28" in reason for reason in result["reasons"])
    await client.patch("/api/v1/programmes/voorzorg", json={"acceptingClients": False}, headers=admin)
    again = (await client.post("/api/v1/routing/simulate", json=body, headers=staff)).json()
    assert again["programme"] != "voorzorg"
    assert {"programme": "voorzorg", "reasons": ["accepts no new clients now"]} in again["excluded"]
    bad = await client.post(
        "/api/v1/routing/simulate", json={"intake": referral(**{"client.bsn": "123"})}, headers=staff
    )
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "intake.client.bsn"
    listing = (await client.get("/api/v1/intakes", headers=staff)).json()
    assert listing["items"] == []  # nothing stored
    referrer = await auth_for(client, "referrer")
    assert (await client.post("/api/v1/routing/simulate", json=body, headers=referrer)).status_code == 403


async def test_plugin_router_chosen_by_setting_is_stored_with_its_name(settings) -> None:
    assert type(load_router("first-accepting")).__name__ == "FirstAcceptingRouter"
    app = create_app(settings.model_copy(update={"router": "first-accepting"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await seed_programmes()
            referrer, staff = await auth_for(client, "referrer"), await auth_for(client, "staff")
            r = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
            intake = (await client.get(f"/api/v1/intakes/{r.json()['id']}", headers=staff)).json()
    recommendation = intake["routing"]["recommendation"]
    assert recommendation["router"] == "first-accepting" and recommendation["rulesVersion"] == "example-1"
    assert recommendation["programme"] == "home-start"
