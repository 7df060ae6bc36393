"""Building blocks for API tests: clients with real tokens, and valid bodies."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import httpx

from app import clock
from app.auth.service import create_client, get_or_create_organisation
from app.db import session_factory
from app.regions.config import load_region
from app.routing.catalogue import seed

ROLE_SCOPES = {
    "admin": ("aanmeldpunt-rotterdam", "aanmeldpunt", ["admin"]),
    "staff": ("aanmeldpunt-rotterdam", "aanmeldpunt", ["intakes:read", "intakes:write"]),
    "referrer": ("verloskundigen-zuid", "referrer", ["referrals:write", "referrals:read"]),
    "referrer2": ("huisartsen-noord", "referrer", ["referrals:write", "referrals:read"]),
    "voorzorg": ("jgz-voorzorg", "programme", ["handoffs:write"]),
    "mvr": ("moeders-van-rotterdam", "wijkteam", ["handoffs:write"]),
    "homestart": ("humanitas-home-start", "programme", ["handoffs:write"]),
    "stevig": ("jgz-stevig-ouderschap", "programme", ["handoffs:write"]),
    "wijkteam": ("wijkteam-rotterdam", "wijkteam", ["handoffs:write"]),
}


async def make_client(organisation: str, kind: str, scopes: list[str], region: str = "rotterdam") -> tuple[str, str]:
    async with session_factory()() as db:
        org = await get_or_create_organisation(db, organisation, kind=kind, region=region)
        c, secret = await create_client(db, org, f"test {organisation}", scopes)
        await db.commit()
    return c.client_id, secret


async def seed_programmes(*regions: str) -> None:
    async with session_factory()() as db:
        for region in regions or ("rotterdam",):
            await seed(db, load_region(region))
        await db.commit()


async def token(client: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope:
        data["scope"] = scope
    r = await client.post("/oauth/token", data=data)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def auth_for(client: httpx.AsyncClient, role: str) -> dict[str, str]:
    org, kind, scopes = ROLE_SCOPES[role]
    cid, secret = await make_client(org, kind, scopes)
    return {"Authorization": f"Bearer {await token(client, cid, secret)}"}


def today() -> date:
    return clock.today_local().date()


def referral(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client": {
            "givenName": "Samira",
            "familyName": "Jansen",
            "birthDate": "2003-04-02",
            "bsn": "123456782",
            "phone": "+31612345678",
            "email": "samira@example.org",
            "address": {"postcode": "3073 AB", "houseNumber": "12", "houseNumberSuffix": "a", "city": "Rotterdam"},
            "preferredLanguage": "nl",
            "interpreterNeeded": False,
        },
        "pregnancy": {"pregnant": True, "dueDate": (today() + timedelta(days=170)).isoformat(), "firstChild": True},
        "children": [],
        "concerns": ["debts", "housing_problem", "stress"],
        "safetyConcern": False,
        "narrative": "Zorgen over schulden en huisvesting; weinig steun.",
        "referrer": {
            "professionalName": "Verloskundige De Vries",
            "role": "midwife",
            "phone": "+31104567890",
            "email": "praktijk@example.org",
        },
        "consent": {
            "clientConsented": True,
            "obtainedAt": "2026-11-20T10:00:00+01:00",
            "method": "verbal",
            "scopes": ["processing", "share_with_programme", "feedback_to_referrer"],
        },
    }
    for path, value in overrides.items():
        target = body
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[key]
        if value is _DELETE:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = copy.deepcopy(value)
    return body


class _Delete:
    pass


_DELETE = _Delete()
DELETE = _DELETE


def self_registration(**overrides: Any) -> dict[str, Any]:
    body = referral()
    body["client"].pop("bsn")
    for k in ("narrative", "referrer", "safetyConcern"):
        body.pop(k)
    body["message"] = "Ik ben zwanger en heb veel zorgen."
    body["contactPreference"] = "whatsapp"
    body["consent"] = {"clientConsented": True, "scopes": ["processing", "share_with_programme"]}
    for path, value in overrides.items():
        target = body
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return body


PERSONAL_DATA = ("Samira", "Jansen", "123456782", "612345678", "samira@example.org", "3073", "schulden", "De Vries")


def assert_no_personal_data_logged(capsys: Any) -> None:
    """The application's logs (stdout/stderr, JSON lines) of everything the test did."""
    out = capsys.readouterr()
    logged = out.out + out.err
    assert '"event": "request"' in logged  # the logs were captured
    for secret in PERSONAL_DATA:
        assert secret not in logged, secret
