"""The deadline simulator and the compliance report over HTTP."""

from __future__ import annotations

from datetime import timedelta

from app import clock
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, referral, seed_programmes, today


async def test_simulate_pinned_case(client) -> None:
    staff = await auth_for(client, "staff")
    body = {
        "receivedAt": "2026-05-04T10:00:00+02:00",
        "pregnancy": {"pregnant": True, "dueDate": "2026-10-20"},
        "safetyConcern": False,
    }
    r = await client.post("/api/v1/deadlines/simulate", json=body, headers=staff)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["situations"] == ["pregnant_under_28_weeks"]
    response = data["deadlines"][0]
    # Tuesday 5 May is Bevrijdingsdag: counting runs Wednesday 6, Thursday 7.
    assert response == {
        "phase": "response",
        "dueAt": "2026-05-07T21:59:59Z",
        "approachingAt": "2026-05-06T21:59:59Z",
        "workingDays": 2,
    }
    unsafe = (
        await client.post("/api/v1/deadlines/simulate", json={**body, "safetyConcern": True}, headers=staff)
    ).json()
    assert unsafe["deadlines"][0]["dueAt"] == "2026-05-06T21:59:59Z"
    bad = await client.post(
        "/api/v1/deadlines/simulate", json={**body, "receivedAt": "2026-05-04T10:00:00"}, headers=staff
    )
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "receivedAt"
    referrer = await auth_for(client, "referrer")
    assert (await client.post("/api/v1/deadlines/simulate", json=body, headers=referrer)).status_code == 403


async def test_report_counts_per_phase(client) -> None:
    await seed_programmes()
    staff, referrer = await auth_for(client, "staff"), await auth_for(client, "referrer")
    ids = []
    for bsn in ("123456782", "111222333", "010000008"):
        r = await client.post("/api/v1/referrals", json=referral(**{"client.bsn": bsn}), headers=referrer)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    # One reached the same day (on time), one reached three weeks later (late), one never.
    await act(
        client, staff, f"/api/v1/intakes/{ids[0]}/contacts", {"at": now_iso(), "channel": "phone", "reached": True}
    )
    clock.advance(timedelta(days=21))
    await act(
        client, staff, f"/api/v1/intakes/{ids[1]}/contacts", {"at": now_iso(), "channel": "phone", "reached": True}
    )
    params = {"from": (today() - timedelta(days=60)).isoformat(), "to": (today() + timedelta(days=400)).isoformat()}
    r = await client.get("/api/v1/deadlines/report", params=params, headers=staff)
    assert r.status_code == 200, r.text
    response = next(p for p in r.json()["phases"] if p["phase"] == "response")
    assert (response["due"], response["metOnTime"], response["metLate"], response["overdue"], response["open"]) == (
        3,
        1,
        1,
        1,
        0,
    )
    assert response["medianWorkingDaysToMeet"] == 0.0 and response["p90WorkingDaysToMeet"] >= 14
    bad = await client.get("/api/v1/deadlines/report", params={"from": "2026-02-01", "to": "2026-01-01"}, headers=staff)
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "to"
    assert (
        await client.get("/api/v1/deadlines/report", params={"from": "x", "to": "y"}, headers=staff)
    ).status_code == 400
