"""Inputs that used to crash into a 500 (issue 13): each is now a 4xx problem+json."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.helpers import auth_for, referral

PROBLEM = "application/problem+json"


def is_problem(r: httpx.Response, status: int) -> bool:
    return r.status_code == status and r.headers["content-type"] == PROBLEM and r.json()["status"] == status


def cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_json_on_the_token_endpoint(client: httpx.AsyncClient, depth: int) -> None:
    body = b'{"grant_type": ' + b"[" * depth + b"]" * depth + b"}"
    r = await client.post("/oauth/token", content=body, headers={"content-type": "application/json"})
    assert is_problem(r, 400), r.text
    assert r.json()["error"] == "invalid_request"


async def test_json_array_on_the_token_endpoint(client: httpx.AsyncClient) -> None:
    r = await client.post("/oauth/token", json=["grant_type", "client_credentials"])
    assert is_problem(r, 400) and r.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "values",
    [
        [5, "x"],
        [5, "6f1c2a4e-0000-4000-8000-000000000000"],
        ["2026-11-24T10:00:00", "6f1c2a4e-0000-4000-8000-000000000000"],  # no offset
        [True, True],
        [None, 7],
        [[], {}],
        ["6f1c2a4e-0000-4000-8000-000000000000"],
    ],
)
async def test_wrongly_typed_worklist_cursors(client: httpx.AsyncClient, values: Any) -> None:
    staff = await auth_for(client, "staff")
    r = await client.get("/api/v1/intakes", params={"cursor": cursor(values)}, headers=staff)
    assert is_problem(r, 400), r.text
    assert r.json()["invalidParams"][0]["name"] == "cursor"


async def test_a_worklist_cursor_the_api_gave_out_still_works(client: httpx.AsyncClient) -> None:
    referrer = await auth_for(client, "referrer")
    for i in range(3):
        body = referral(**{"client.familyName": f"Cursor{i}", "client.bsn": ["111222333", "123456782", "999999990"][i]})
        assert (await client.post("/api/v1/referrals", json=body, headers=referrer)).status_code == 201
    staff = await auth_for(client, "staff")
    first = await client.get("/api/v1/intakes", params={"limit": 2}, headers=staff)
    assert first.status_code == 200 and first.json()["nextCursor"]
    rest = await client.get("/api/v1/intakes", params={"cursor": first.json()["nextCursor"]}, headers=staff)
    assert rest.status_code == 200 and len(rest.json()["items"]) == 1


@pytest.mark.parametrize("values", [[True], [False], [-1], [2**64], [1.5], ["3"], [None]])
async def test_wrongly_typed_access_log_cursors(client: httpx.AsyncClient, values: Any) -> None:
    referrer = await auth_for(client, "referrer")
    created = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    staff = await auth_for(client, "staff")
    r = await client.get(
        f"/api/v1/intakes/{created.json()['id']}/access-log", params={"cursor": cursor(values)}, headers=staff
    )
    assert is_problem(r, 400), r.text


@pytest.mark.parametrize("values", [[True], [-3], ["abc"], [1, 2]])
async def test_wrongly_typed_admin_cursors(client: httpx.AsyncClient, values: Any) -> None:
    admin = await auth_for(client, "admin")
    subscriptions = await client.get("/api/v1/webhook-subscriptions", params={"cursor": cursor(values)}, headers=admin)
    assert is_problem(subscriptions, 400), subscriptions.text
    if values != [True] and values != ["abc"]:  # str cursors: any string is a valid position
        clients = await client.get("/api/v1/clients", params={"cursor": cursor(values)}, headers=admin)
        assert is_problem(clients, 400), clients.text


@pytest.mark.parametrize(
    ("start", "end"),
    [("9999-01-01", "9999-12-31"), ("2026-01-01", "9999-12-31"), ("0001-01-01", "0001-01-02")],
)
async def test_deadline_report_far_dates(client: httpx.AsyncClient, start: str, end: str) -> None:
    staff = await auth_for(client, "staff")
    r = await client.get("/api/v1/deadlines/report", params={"from": start, "to": end}, headers=staff)
    assert is_problem(r, 400), r.text


async def _chunks(total: int, size: int = 16_384) -> AsyncIterator[bytes]:
    sent = 0
    yield b'{"narrative": "'
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


@pytest.mark.parametrize("path", ["/api/v1/referrals", "/oauth/token", "/api/v1/self-registrations"])
async def test_a_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient, path: str) -> None:
    referrer = await auth_for(client, "referrer")
    r = await client.post(
        path,
        content=_chunks(300_000),  # no Content-Length: sent chunked
        headers={**referrer, "content-type": "application/json"},
    )
    assert is_problem(r, 413), r.text


async def test_an_announced_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    referrer = await auth_for(client, "referrer")
    r = await client.post(
        "/api/v1/referrals", content=b"x" * 300_000, headers={**referrer, "content-type": "application/json"}
    )
    assert is_problem(r, 413)


async def test_a_chunked_body_under_the_limit_still_works(client: httpx.AsyncClient) -> None:
    referrer = await auth_for(client, "referrer")

    async def body() -> AsyncIterator[bytes]:
        raw = json.dumps(referral()).encode()
        for i in range(0, len(raw), 100):
            yield raw[i : i + 100]

    r = await client.post("/api/v1/referrals", content=body(), headers={**referrer, "content-type": "application/json"})
    assert r.status_code == 201, r.text
