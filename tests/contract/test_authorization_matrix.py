"""Who may call what: every operation in the OpenAPI document, called as every role.

The test fails when a route is added without a row here. `OK` means the caller got past
authorization (any answer but 401/403/404, never 5xx); 404 means "not visible to you", with
nothing of the intake in the body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, make_client, referral, seed_programmes

ROLES = ("anon", "referrer", "referrer2", "staff", "mvr", "voorzorg", "admin")
OK = "ok"


def only(allowed: str, *, others: int = 403, foreign: dict[str, int] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {role: others for role in ROLES}
    row["anon"] = 401
    for role in allowed.split():
        row[role] = OK
    row.update(foreign or {})
    return row


STAFF = only("staff")
STAFF_WRITE = only("staff")
ADMIN = only("admin")
PROGRAMME = only("mvr", foreign={"voorzorg": 404})
PUBLIC = {role: OK for role in ROLES}

MATRIX: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/referrals"): only("referrer referrer2"),
    ("POST", "/self-registrations"): PUBLIC,
    ("GET", "/referrals/{id}"): only("referrer", foreign={"referrer2": 404}),
    ("GET", "/referrals"): only("referrer referrer2"),
    ("GET", "/intakes"): STAFF,
    ("GET", "/intakes/{id}"): only("staff mvr", foreign={"voorzorg": 404}),
    ("PATCH", "/intakes/{id}"): STAFF_WRITE,
    ("POST", "/intakes/{id}/contacts"): STAFF_WRITE,
    ("POST", "/intakes/{id}/assessment"): STAFF_WRITE,
    ("POST", "/intakes/{id}/routing"): STAFF_WRITE,
    ("POST", "/intakes/{id}/handoffs"): STAFF_WRITE,
    ("POST", "/intakes/{id}/close"): STAFF_WRITE,
    ("POST", "/intakes/{id}/merge"): STAFF_WRITE,
    ("POST", "/intakes/{id}/reopen"): STAFF_WRITE,
    ("GET", "/intakes/{id}/consents"): STAFF,
    ("POST", "/intakes/{id}/consents"): STAFF_WRITE,
    ("POST", "/intakes/{id}/consents/{consentId}/withdraw"): STAFF_WRITE,
    ("POST", "/intakes/{id}/legal-basis"): STAFF_WRITE,
    ("GET", "/intakes/{id}/legal-basis"): STAFF,
    ("POST", "/intakes/{id}/legal-basis/{legalBasisId}/confirm"): STAFF_WRITE,
    ("GET", "/intakes/{id}/access-log"): STAFF,
    # The case (issue 15): a programme with a live handoff reads the involvements and the case
    # file, and takes over coordination once it accepted (mvr's handoff is only offered: 409).
    ("PUT", "/intakes/{id}/coordinator"): only("staff mvr", foreign={"voorzorg": 404}),
    ("GET", "/intakes/{id}/involvements"): only("staff mvr", foreign={"voorzorg": 404}),
    ("POST", "/intakes/{id}/involvements"): STAFF_WRITE,
    ("POST", "/intakes/{id}/involvements/{involvementId}/end"): STAFF_WRITE,
    ("POST", "/intakes/{id}/case-meetings"): STAFF_WRITE,
    ("GET", "/intakes/{id}/case-meetings"): STAFF,
    ("POST", "/intakes/{id}/agreements/{agreementId}/done"): STAFF_WRITE,
    ("POST", "/intakes/{id}/notes"): STAFF_WRITE,
    ("GET", "/intakes/{id}/timeline"): only("staff mvr", foreign={"voorzorg": 404}),
    ("GET", "/handoffs/{id}"): PROGRAMME,
    ("POST", "/handoffs/{id}/accept"): PROGRAMME,
    ("POST", "/handoffs/{id}/decline"): PROGRAMME,
    ("POST", "/handoffs/{id}/first-contact"): PROGRAMME,
    ("POST", "/handoffs/{id}/support-started"): PROGRAMME,
    ("POST", "/handoffs/{id}/end"): PROGRAMME,
    ("GET", "/programmes"): PUBLIC,
    ("GET", "/regions"): PUBLIC,
    ("GET", "/regions/{code}/policy"): only("staff admin"),
    ("GET", "/regions/{code}/policy/versions"): only("staff admin"),
    ("PUT", "/regions/{code}/policy"): ADMIN,
    ("PATCH", "/programmes/{code}"): ADMIN,
    ("POST", "/routing/simulate"): STAFF,
    ("POST", "/deadlines/simulate"): STAFF,
    ("GET", "/deadlines/report"): STAFF,
    ("GET", "/statistics"): STAFF,
    ("GET", "/statistics/export"): only(""),
    ("POST", "/organisations"): ADMIN,
    ("GET", "/organisations"): ADMIN,
    ("POST", "/clients"): ADMIN,
    ("GET", "/clients"): ADMIN,
    ("DELETE", "/clients/{clientId}"): ADMIN,
    ("POST", "/webhook-subscriptions"): ADMIN,
    ("GET", "/webhook-subscriptions"): ADMIN,
    ("GET", "/webhook-subscriptions/{id}"): ADMIN,
    ("PATCH", "/webhook-subscriptions/{id}"): ADMIN,
    ("DELETE", "/webhook-subscriptions/{id}"): ADMIN,
    ("POST", "/webhook-subscriptions/{id}/rotate-secret"): ADMIN,
    ("GET", "/webhook-subscriptions/{id}/deliveries"): ADMIN,
    ("POST", "/webhook-subscriptions/{id}/replay"): ADMIN,
    ("GET", "/admin-trail"): ADMIN,
    # Public: the client authenticates with its credentials, not a token.
    ("POST", "/oauth/token"): PUBLIC,
}


def operations() -> set[tuple[str, str]]:
    document = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())
    return {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}


def test_every_operation_is_in_the_matrix() -> None:
    assert operations() == set(MATRIX), "add the new route to MATRIX with who may call it"


async def test_authorization_matrix(client) -> None:
    await seed_programmes()
    headers = {role: await auth_for(client, role) for role in ROLES if role != "anon"}
    headers["anon"] = {}
    staff = headers["staff"]
    body = referral(safetyConcern=True)
    intake_id = (await client.post("/api/v1/referrals", json=body, headers=headers["referrer"])).json()["id"]
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    intake = (await client.get(base, headers=staff)).json()
    pending = await act(
        client, staff, f"{base}/legal-basis", {"basis": "meldcode", "justification": "Veiligheid in het geding."}, 201
    )
    involvement = await act(client, staff, f"{base}/involvements", {"role": "gp", "organisationName": "Huisarts"}, 201)
    meeting = await act(
        client,
        staff,
        f"{base}/case-meetings",
        {
            "at": now_iso(),
            "participants": [{"role": "gp", "organisationName": "Huisarts"}],
            "agreements": [{"what": "Bellen", "owner": "Huisarts", "dueDate": now_iso()[:10]}],
        },
        201,
    )
    sub = await client.post(
        "/api/v1/webhook-subscriptions",
        json={"url": "https://hooks.example.org/x", "eventTypes": ["intake.received"], "organisation": "jgz-voorzorg"},
        headers=headers["admin"],
    )
    values = {
        "/referrals/{id}": intake_id,
        "/intakes/{id}": intake_id,
        "/handoffs/{id}": handoff["id"],
        "/webhook-subscriptions/{id}": sub.json()["id"],
    }
    params = {
        "{consentId}": intake["consents"][0]["id"],
        "{legalBasisId}": pending["id"],
        "{involvementId}": involvement["id"],
        "{agreementId}": meeting["agreements"][0]["id"],
        "{code}": "voorzorg",
        "{clientId}": (await make_client("huisartsen-noord", "referrer", ["referrals:read"]))[0],
    }
    # A foreign programme sends a valid body, so the answer depends on visibility alone.
    valid_bodies = {
        "/handoffs/{id}/decline": {"reason": "Geen plek."},
        "/handoffs/{id}/first-contact": {"at": now_iso()},
        "/handoffs/{id}/support-started": {"at": now_iso()},
        "/intakes/{id}/coordinator": {"name": "Coach van Voorzorg"},
        "/handoffs/{id}/end": {"at": now_iso(), "reason": "completed"},
    }
    failures = []
    # DELETE last, so the other calls still find what they name.
    for (method, template), expected in sorted(MATRIX.items(), key=lambda item: (item[0][0] == "DELETE", item[0])):
        path = template.replace("/regions/{code}", "/regions/rotterdam")
        for prefix, value in values.items():
            path = path.replace(prefix, prefix.replace("{id}", value))
        for name, value in params.items():
            path = path.replace(name, value)
        for role in ROLES:
            query = {"from": "2026-01-01", "to": "2026-12-31"} if template == "/deadlines/report" else None
            kwargs: dict[str, Any] = {"headers": headers[role], "params": query}
            if method in ("POST", "PATCH", "PUT"):
                kwargs["json"] = valid_bodies.get(template, {}) if role == "voorzorg" else {}
            r = await client.request(method, f"/api/v1{path}", **kwargs)
            want = expected[role]
            got_ok = r.status_code not in (401, 403, 404) and r.status_code < 500
            if (want == OK and not got_ok) or (want != OK and r.status_code != want):
                failures.append(f"{method} {template} as {role}: {r.status_code}, expected {want}")
            if r.status_code >= 400:
                assert r.headers["content-type"] == "application/problem+json", (method, template, role)
            if role not in ("staff", "mvr") and r.status_code in (401, 403, 404):
                assert "Jansen" not in r.text and "123456782" not in r.text
    assert failures == [], "\n".join(failures)
