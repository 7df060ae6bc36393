"""Regions are tenants: the isolation matrix.

Region B (`rotterdam`) has an intake with a handoff, consents, an access log, a webhook
subscription with deliveries, clients and organisations. Callers of every role from region
A (`utrecht`) call every operation of the OpenAPI document against B's resources, and the
same call with ids that do not exist. Each answer must be exactly the unknown-id answer
(same status; a list holds nothing of B), and no answer may carry any of B's data.

The test fails when the OpenAPI document has an operation that is not in `MATRIX`. To add
one: an entry `(METHOD, "/path/{param}"): Case(...)` with a body that is valid for the
operation (so the answer depends on visibility, not validation). Path parameters are filled
in by `PATH_VALUES` (add a row there for a new parameter name); a body that names a resource
of region B gives it as `foreign_body` and the unknown one as `unknown_body`."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.intakes.delivery import LOOKUP
from app.regions.config import load_region
from app.webhooks import dispatcher
from app.webhooks.models import Delivery, Subscription
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import make_client, referral, seed_programmes, self_registration, token
from tests.support.receiver import Receiver, start

A, B = "utrecht", "rotterdam"
ROLES_A = {
    "anon": None,
    "admin": ("aanmeldpunt-utrecht", "aanmeldpunt", ["admin"]),
    "staff": ("aanmeldpunt-utrecht", "aanmeldpunt", ["intakes:read", "intakes:write"]),
    "referrer": ("verloskundigen-utrecht", "referrer", ["referrals:write", "referrals:read"]),
    "programme": ("jgz-utrecht-voorzorg", "programme", ["handoffs:write"]),
}


@dataclass
class Case:
    """How to call one operation. `body`/`query` go with both calls; `foreign_body` and
    `unknown_body` are merged into the body of the call against B and the unknown call.
    `public` says why B's data may be shown to anyone (then only the leak check of personal
    data applies). `check` is an extra assertion on the answer of each role of A."""

    body: dict[str, Any] | None = None
    query: dict[str, str] | None = None
    foreign_body: dict[str, Any] = field(default_factory=dict)
    unknown_body: dict[str, Any] = field(default_factory=dict)
    public: str = ""
    check: Callable[[str, httpx.Response], None] | None = None


def _no_counts(role: str, r: httpx.Response) -> None:
    if r.status_code == 200:
        assert all(p["due"] == 0 for p in r.json()["phases"]), (role, r.text)


def _not_rotterdam(role: str, r: httpx.Response) -> None:
    assert "moeders-van-rotterdam" not in r.text, (role, r.text)


def _no_clients_of_b(role: str, r: httpx.Response) -> None:
    if r.status_code == 200:
        assert all(not c["organisation"].endswith("-rotterdam") for c in r.json()["items"]), r.text


def _no_trail_of_b(role: str, r: httpx.Response) -> None:
    if r.status_code == 200:
        assert all(item["region"] in (A, "*") for item in r.json()["items"]), r.text


AT = {"at": "2026-11-20T10:00:00+01:00"}
MATRIX: dict[tuple[str, str], Case] = {
    ("POST", "/oauth/token"): Case(
        body={"grant_type": "client_credentials", "client_secret": "not-the-secret"},
        foreign_body={"client_id": "<B_CLIENT>"},
        unknown_body={"client_id": "amp_00000000000000000000"},
    ),
    ("POST", "/referrals"): Case(body=referral()),
    ("POST", "/self-registrations"): Case(
        body=self_registration(region=A), public="anyone may register herself in the region she lives in"
    ),
    ("GET", "/referrals/{id}"): Case(),
    ("GET", "/referrals"): Case(),
    ("GET", "/intakes"): Case(),
    ("GET", "/intakes/{id}"): Case(),
    ("PATCH", "/intakes/{id}"): Case(body={"safetyConcern": False}),
    ("POST", "/intakes/{id}/contacts"): Case(
        body={"at": "2026-11-20T10:00:00+01:00", "channel": "phone", "reached": True}
    ),
    ("POST", "/intakes/{id}/assessment"): Case(body={"visitedAt": "2026-11-20T10:00:00+01:00", "location": "home"}),
    ("POST", "/intakes/{id}/routing"): Case(body={}),
    ("POST", "/intakes/{id}/handoffs"): Case(body={"programme": "voorzorg", "reason": "Past ook."}),
    ("POST", "/intakes/{id}/close"): Case(body={"reason": "no_contact"}),
    ("POST", "/intakes/{id}/reopen"): Case(body={"reason": "Terugval na de bevalling."}),
    ("POST", "/intakes/{id}/merge"): Case(foreign_body={"into": "<B_OTHER>"}, unknown_body={"into": "<UNKNOWN>"}),
    ("GET", "/intakes/{id}/consents"): Case(),
    ("POST", "/intakes/{id}/consents"): Case(
        body={"scope": "research", "given": True, "obtainedAt": "2026-11-20T10:00:00+01:00", "method": "verbal"}
    ),
    ("POST", "/intakes/{id}/consents/{consentId}/withdraw"): Case(body=AT),
    ("POST", "/intakes/{id}/legal-basis"): Case(body={"justification": "Huiselijk geweld gezien bij huisbezoek."}),
    ("GET", "/intakes/{id}/legal-basis"): Case(),
    ("POST", "/intakes/{id}/legal-basis/{legalBasisId}/confirm"): Case(),
    ("GET", "/intakes/{id}/access-log"): Case(),
    ("PUT", "/intakes/{id}/coordinator"): Case(body={"name": "Karin Bakker"}),
    ("GET", "/intakes/{id}/involvements"): Case(),
    ("POST", "/intakes/{id}/involvements"): Case(body={"role": "gp", "organisationName": "Huisartsenpraktijk"}),
    ("POST", "/intakes/{id}/involvements/{involvementId}/end"): Case(body=AT),
    ("POST", "/intakes/{id}/case-meetings"): Case(
        body={**AT, "participants": [{"role": "gp", "organisationName": "Huisartsenpraktijk"}]}
    ),
    ("GET", "/intakes/{id}/case-meetings"): Case(),
    ("POST", "/intakes/{id}/agreements/{agreementId}/done"): Case(body=AT),
    ("POST", "/intakes/{id}/notes"): Case(body={"text": "Een notitie."}),
    ("GET", "/intakes/{id}/timeline"): Case(),
    ("GET", "/handoffs/{id}"): Case(),
    ("POST", "/handoffs/{id}/accept"): Case(body={}),
    ("POST", "/handoffs/{id}/decline"): Case(body={"reason": "Geen plek."}),
    ("POST", "/handoffs/{id}/first-contact"): Case(body=AT),
    ("POST", "/handoffs/{id}/support-started"): Case(body=AT),
    ("POST", "/handoffs/{id}/end"): Case(body={**AT, "reason": "completed"}),
    ("GET", "/regions"): Case(public="the list of regions is public"),
    ("GET", "/regions/{code}/policy"): Case(),
    ("GET", "/regions/{code}/policy/versions"): Case(),
    ("PUT", "/regions/{code}/policy"): Case(
        body={"policy": load_region(B).policy.model_dump(mode="json", by_alias=True)}
    ),
    ("GET", "/programmes"): Case(query={"region": B}, public="the social map of every region is public"),
    ("PATCH", "/programmes/{code}"): Case(body={"acceptingClients": False}),
    ("POST", "/routing/simulate"): Case(body={"intake": referral()}, check=_not_rotterdam),
    ("POST", "/deadlines/simulate"): Case(
        body={"receivedAt": "2026-11-20T10:00:00+01:00", "pregnancy": {"pregnant": False}}
    ),
    # Statistics (issue 17) are computed from the caller's region only; B's intakes must not show.
    ("GET", "/statistics"): Case(query={"from": "2026-01-01", "to": "2027-12-31"}),
    ("GET", "/statistics/export"): Case(query={"from": "2026-01-01", "to": "2027-12-31"}),
    ("GET", "/deadlines/report"): Case(query={"from": "2026-01-01", "to": "2027-12-31"}, check=_no_counts),
    ("POST", "/organisations"): Case(
        foreign_body={"code": "nieuw-in-rotterdam", "name": "Nieuw", "kind": "referrer", "region": B},
        unknown_body={"code": "nieuw-in-atlantis", "name": "Nieuw", "kind": "referrer", "region": "atlantis"},
    ),
    ("GET", "/organisations"): Case(),
    ("POST", "/clients"): Case(
        body={"name": "Inbreker", "scopes": ["intakes:read"]},
        foreign_body={"organisation": "aanmeldpunt-rotterdam"},
        unknown_body={"organisation": "bestaat-niet"},
    ),
    ("GET", "/clients"): Case(check=_no_clients_of_b),
    ("GET", "/admin-trail"): Case(check=_no_trail_of_b),
    ("DELETE", "/clients/{clientId}"): Case(),
    ("POST", "/webhook-subscriptions"): Case(
        body={"url": "https://hooks.example.org/x", "eventTypes": ["intake.received"]},
        foreign_body={"organisation": "jgz-voorzorg"},
        unknown_body={"organisation": "bestaat-niet"},
    ),
    ("GET", "/webhook-subscriptions"): Case(),
    ("GET", "/webhook-subscriptions/{id}"): Case(),
    ("PATCH", "/webhook-subscriptions/{id}"): Case(body={"enabled": False}),
    ("DELETE", "/webhook-subscriptions/{id}"): Case(),
    ("POST", "/webhook-subscriptions/{id}/rotate-secret"): Case(body={}),
    ("GET", "/webhook-subscriptions/{id}/deliveries"): Case(),
    ("POST", "/webhook-subscriptions/{id}/replay"): Case(body={"since": "2020-01-01T00:00:00+01:00"}),
}

# Path parameter -> (path prefix it belongs to or "", the key of B's resource in `world`, unknown value)
PATH_VALUES: list[tuple[str, str, str, str]] = [
    ("{id}", "/referrals/", "intake", str(uuid.UUID(int=1))),
    ("{id}", "/intakes/", "intake", str(uuid.UUID(int=1))),
    ("{id}", "/handoffs/", "handoff", str(uuid.UUID(int=2))),
    ("{id}", "/webhook-subscriptions/", "subscription", str(uuid.UUID(int=3))),
    ("{consentId}", "", "consent", str(uuid.UUID(int=4))),
    # No legal-basis request of B exists; the intake of B decides (404 as for an unknown intake).
    ("{legalBasisId}", "", "consent", str(uuid.UUID(int=5))),
    # Involvements and agreements of B: the intake of B decides (404 as for an unknown intake).
    ("{involvementId}", "", "consent", str(uuid.UUID(int=6))),
    ("{agreementId}", "", "consent", str(uuid.UUID(int=7))),
    ("{code}", "/programmes/", "programme", "bestaat-niet"),
    ("{code}", "/regions/", "region", "atlantis"),
    ("{clientId}", "", "client", "amp_00000000000000000000"),
]


def operations() -> set[tuple[str, str]]:
    document = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())
    return {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}


def test_every_operation_is_in_the_isolation_matrix() -> None:
    missing = sorted(operations() - set(MATRIX))
    stale = sorted(set(MATRIX) - operations())
    assert not missing, (
        f"operations without a row in tests/regions/test_region_isolation.py MATRIX: {missing}; add "
        "(METHOD, path): Case(body=<a valid body>) so a caller of another region is checked against it"
    )
    assert not stale, f"MATRIX rows for operations that no longer exist: {stale}"


def fill(template: str, world: dict[str, str], foreign: bool) -> str:
    path = template
    for name, prefix, key, unknown in PATH_VALUES:
        if name in path and (not prefix or path.startswith(prefix)):
            path = path.replace(name, world[key] if foreign else unknown)
    assert "{" not in path, f"no PATH_VALUES row for a parameter of {template}"
    return path


def body_for(case: Case, world: dict[str, str], foreign: bool) -> dict[str, Any] | None:
    extra = case.foreign_body if foreign else case.unknown_body
    if case.body is None and not extra:
        return None
    merged = {**(case.body or {}), **extra}
    text = (
        json.dumps(merged)
        .replace("<B_OTHER>", world["other_intake"])
        .replace("<UNKNOWN>", str(uuid.UUID(int=9)))
        .replace("<B_CLIENT>", world["client"])
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        regions=f"{B},{A}",
        run_workers=False,
        webhook_allow_loopback_http=True,
        self_registration_rate=1000,
        token_rate=1000,
        public_base_url="http://testserver",
        metrics_token="scrape-me",
    )


@pytest.fixture
def receiver():
    r = Receiver()
    server = start(r)
    yield r
    server.shutdown()


async def headers_for(client, role: str, region: str = A) -> dict[str, str]:
    spec = ROLES_A[role]
    if spec is None:
        return {}
    org, kind, scopes = spec
    if region == B:
        org = {"aanmeldpunt-utrecht": "aanmeldpunt-rotterdam", "verloskundigen-utrecht": "verloskundigen-zuid"}.get(
            org, "jgz-voorzorg"
        )
    cid, secret = await make_client(org, kind, scopes, region=region)
    return {"Authorization": f"Bearer {await token(client, cid, secret)}"}


async def build_region_b(client, receiver: Receiver) -> dict[str, str]:
    """Everything region B has that region A must not reach."""
    admin_b = await headers_for(client, "admin", B)
    staff_b = await headers_for(client, "staff", B)
    referrer_b = await headers_for(client, "referrer", B)
    r = await client.post("/api/v1/referrals", json=referral(), headers=referrer_b)
    assert r.status_code == 201, r.text
    intake = r.json()
    other = await client.post(
        "/api/v1/referrals",
        json=referral(**{"client.bsn": "111222333", "client.familyName": "Bakker"}),
        headers=referrer_b,
    )
    base = f"/api/v1/intakes/{intake['id']}"
    await act(client, staff_b, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff_b, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff_b, f"{base}/handoffs", expect=201)
    full = (await client.get(base, headers=staff_b)).json()
    sub = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": receiver.url("ok", "b"),
            "eventTypes": ["intake.received", "intake.contacted"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin_b,
    )
    assert sub.status_code == 201, sub.text
    receiver.secrets["b"] = [sub.json()["secret"]]
    client_b = await client.post(
        "/api/v1/clients",
        json={"organisation": "verloskundigen-zuid", "name": "Praktijk Zuid", "scopes": ["referrals:read"]},
        headers=admin_b,
    )
    assert client_b.status_code == 201, client_b.text
    return {
        "intake": intake["id"],
        "reference": intake["reference"],
        "other_intake": other.json()["id"],
        "handoff": handoff["id"],
        "consent": full["consents"][0]["id"],
        "subscription": sub.json()["id"],
        "client": client_b.json()["clientId"],
        "programme": "moeders-van-rotterdam",
        "region": B,
    }


def leaks(text: str, world: dict[str, str]) -> list[str]:
    markers = [
        world[k] for k in ("intake", "reference", "other_intake", "handoff", "consent", "subscription", "client")
    ]
    markers += ["Jansen", "Bakker", "123456782", "111222333", "aanmeldpunt-rotterdam", "verloskundigen-zuid"]
    return [m for m in markers if m in text]


async def test_region_isolation_matrix(client, db, settings, receiver) -> None:
    await seed_programmes(B, A)
    world = await build_region_b(client, receiver)
    callers = {role: await headers_for(client, role) for role in ROLES_A}
    failures: list[str] = []
    ordered = sorted(MATRIX.items(), key=lambda item: (item[0][0] == "DELETE", item[0]))
    for (method, template), case in ordered:
        for role, headers in callers.items():
            answers = []
            for foreign in (True, False):
                query = dict(case.query or {})
                if template == "/programmes" and not foreign:
                    query["region"] = A
                r = await client.request(
                    method,
                    f"/api/v1{fill(template, world, foreign)}",
                    headers=headers,
                    params=query or None,
                    json=body_for(case, world, foreign),
                )
                answers.append(r)
            against_b, unknown = answers
            where = f"{method} {template} as {role} of {A}"
            if against_b.status_code >= 500:
                failures.append(f"{where}: {against_b.status_code}")
            if not case.public and against_b.status_code != unknown.status_code:
                failures.append(
                    f"{where}: {against_b.status_code} for region {B}'s resource, "
                    f"{unknown.status_code} for an unknown one"
                )
            found = leaks(against_b.text, world)
            if found and not case.public:
                failures.append(f"{where}: the answer carries region {B}'s data {found}")
            if case.public and any(m in against_b.text for m in ("Jansen", "123456782", world["intake"])):
                failures.append(f"{where}: personal data of region {B} in a public answer")
            if case.check:
                try:
                    case.check(role, against_b)
                except AssertionError as exc:
                    failures.append(f"{where}: {exc}")
    assert failures == [], "\n".join(failures)

    # Nothing of region B changed: its subscription, client and programme are as they were.
    staff_b = await headers_for(client, "staff", B)
    admin_b = await headers_for(client, "admin", B)
    sub = (await client.get(f"/api/v1/webhook-subscriptions/{world['subscription']}", headers=admin_b)).json()
    assert sub["enabled"] is True
    clients_b = (await client.get("/api/v1/clients", headers=admin_b, params={"limit": 200})).json()["items"]
    assert any(c["clientId"] == world["client"] and c["active"] for c in clients_b)
    intake = (await client.get(f"/api/v1/intakes/{world['intake']}", headers=staff_b)).json()
    assert intake["status"] == "handed_off" and intake["handoffs"][0]["status"] == "offered"
    programmes = (await client.get("/api/v1/programmes", params={"region": B})).json()["items"]
    assert all(p["acceptingClients"] for p in programmes)
    orgs = (await client.get("/api/v1/organisations", headers=admin_b)).json()["items"]
    assert "nieuw-in-rotterdam" not in [o["code"] for o in orgs]


async def test_webhook_fan_out_stays_in_its_region(client, db, settings, receiver) -> None:
    await seed_programmes(B, A)
    await build_region_b(client, receiver)
    admin_a = await headers_for(client, "admin")
    r = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": receiver.url("ok", "a"),
            "eventTypes": ["intake.received", "intake.contacted"],
            "organisation": "aanmeldpunt-utrecht",
        },
        headers=admin_a,
    )
    assert r.status_code == 201, r.text
    sub_a = r.json()["id"]
    receiver.secrets["a"] = [r.json()["secret"]]
    # An intake of region A, and more activity in region B after A subscribed.
    referrer_a = await headers_for(client, "referrer")
    body = referral(**{"client.address": {"postcode": "3583 AB", "houseNumber": "1", "city": "Utrecht"}})
    own = (await client.post("/api/v1/referrals", json=body, headers=referrer_a)).json()["id"]
    referrer_b = await headers_for(client, "referrer", B)
    later_b = await client.post("/api/v1/referrals", json=referral(**{"client.bsn": "999999990"}), headers=referrer_b)

    rng = random.Random(1)
    async with httpx.AsyncClient(timeout=5) as http:
        while await dispatcher.deliver_once(http, settings, rng, LOOKUP):
            pass
    heard_a = receiver.of("a")
    assert heard_a and all(a.verified for a in heard_a)
    assert {a.body["data"]["intakeId"] for a in heard_a} == {own}
    # B's subscription (made after B's first intake) heard B's later referral and nothing of A.
    assert {a.body["data"]["intakeId"] for a in receiver.of("b")} == {later_b.json()["id"]}

    # A replay from the beginning of time queues only region A's events.
    replay = await client.post(
        f"/api/v1/webhook-subscriptions/{sub_a}/replay", json={"since": "2000-01-01T00:00:00Z"}, headers=admin_a
    )
    assert replay.status_code == 200 and replay.json()["queued"] == 1
    count = await db.scalar(
        select(func.count()).select_from(Delivery).join(Subscription).where(Subscription.id == uuid.UUID(sub_a))
    )
    assert count == 1


async def test_metrics_need_the_scrape_token_and_carry_the_region(client, settings) -> None:
    await seed_programmes(B, A)
    referrer_a = await headers_for(client, "referrer")
    await client.post("/api/v1/referrals", json=referral(), headers=referrer_a)
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
    r = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert r.status_code == 200
    assert 'aanmeldpunt_intakes{region="utrecht",status="received"} 1.0' in r.text
    assert 'aanmeldpunt_intakes{region="rotterdam"' not in r.text
