"""A region's policy as versioned data: the file is version 1, a PUT stores a new version
from its effectiveFrom on, deadlines and recommendations record the version they were
computed with, a draft can be simulated without storing anything, and every change is in
the admin trail with its diff."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app import clock
from app.audit.models import AdminTrailEntry
from app.deadlines.models import Deadline
from app.intakes.models import Intake
from app.regions.models import RegionPolicyVersion
from tests.support.helpers import auth_for, referral, seed_programmes

POLICY = "/api/v1/regions/rotterdam/policy"


async def _deadlines(db, intake_id: str) -> dict[str, tuple[str, int | None]]:
    rows = await db.execute(
        select(Deadline.phase, Deadline.due_at, Deadline.policy_version).where(Deadline.intake_id == intake_id)
    )
    return {phase: (due.isoformat(), version) for phase, due, version in rows.all()}


async def _refer(client, referrer) -> dict[str, Any]:
    r = await client.post("/api/v1/referrals", json=referral(), headers=referrer)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_new_version_changes_deadlines_only_from_its_effective_moment(client, db) -> None:
    await seed_programmes()
    admin, staff, referrer = [await auth_for(client, role) for role in ("admin", "staff", "referrer")]

    current = await client.get(POLICY, headers=staff)
    assert current.status_code == 200, current.text
    first = current.json()
    assert first["version"] == 1 and first["createdBy"] == "region file app/regions/rotterdam.yaml"
    assert first["policy"]["deadlines"]["rows"][2]["situation"] == "pregnant_under_28_weeks"

    before = await _refer(client, referrer)
    draft = copy.deepcopy(first["policy"])
    draft["deadlines"]["rows"][2].update(response=1, intake=4, supportStart=8)
    effective = clock.now() + timedelta(days=1)

    # A draft is simulated next to the version in force; nothing is stored.
    counts = (
        await db.scalar(select(func.count()).select_from(RegionPolicyVersion)),
        await db.scalar(select(func.count()).select_from(Intake)),
    )
    simulation_body = {"receivedAt": clock.now().isoformat(), "pregnancy": referral()["pregnancy"]}
    simulated = await client.post(
        "/api/v1/deadlines/simulate", json={**simulation_body, "policy": draft}, headers=staff
    )
    assert simulated.status_code == 200, simulated.text
    sim = simulated.json()
    assert sim["policyVersion"] is None and sim["inForce"]["policyVersion"] == 1
    assert [d["workingDays"] for d in sim["deadlines"]] == [1, 4, 8]
    assert [d["workingDays"] for d in sim["inForce"]["deadlines"]] == [2, 10, 20]
    routed = await client.post("/api/v1/routing/simulate", json={"intake": referral(), "policy": draft}, headers=staff)
    assert routed.status_code == 200 and routed.json()["policyVersion"] is None
    assert routed.json()["inForce"]["policyVersion"] == 1
    assert counts == (
        await db.scalar(select(func.count()).select_from(RegionPolicyVersion)),
        await db.scalar(select(func.count()).select_from(Intake)),
    )

    stored = await client.put(POLICY, json={"effectiveFrom": effective.isoformat(), "policy": draft}, headers=admin)
    assert stored.status_code == 200, stored.text
    assert stored.json()["version"] == 2
    # Not yet in force: an intake received now still gets version 1.
    assert (await client.get(POLICY, headers=staff)).json()["version"] == 1
    still_before = await _refer(client, referrer)

    clock.advance(timedelta(days=2))
    after = await _refer(client, referrer)
    assert (await client.get(POLICY, headers=staff)).json()["version"] == 2

    old, old2, new = [await _deadlines(db, i["id"]) for i in (before, still_before, after)]
    assert {v for _, v in old.values()} == {1} and {v for _, v in old2.values()} == {1}
    assert {v for _, v in new.values()} == {2}
    # The new table applies to the intake received after effectiveFrom, as the draft simulated.
    sim_after = await client.post(
        "/api/v1/deadlines/simulate",
        json={"receivedAt": clock.now().isoformat(), "pregnancy": referral()["pregnancy"]},
        headers=staff,
    )
    assert sim_after.json()["policyVersion"] == 2
    assert [d["workingDays"] for d in sim_after.json()["deadlines"]] == [1, 4, 8]
    stored_due = sorted(datetime.fromisoformat(due) for due, _ in new.values())
    assert stored_due == sorted(datetime.fromisoformat(d["dueAt"]) for d in sim_after.json()["deadlines"])
    intake_after = await db.get(Intake, after["id"])
    assert intake_after is not None and intake_after.routing["recommendation"]["policyVersion"] == 2

    # New facts recompute the old intake with the version in force at its receipt (1), not 2.
    r = await client.patch(f"/api/v1/intakes/{before['id']}", json={"safetyConcern": False}, headers=staff)
    assert r.status_code == 200, r.text
    db.expire_all()
    assert await _deadlines(db, before["id"]) == old

    versions = (await client.get(f"{POLICY}/versions", headers=admin)).json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    trail = (await db.scalars(select(AdminTrailEntry).where(AdminTrailEntry.region == "rotterdam"))).all()
    assert len(trail) == 1 and trail[0].action == "region_policy.version_stored"
    assert {"path": "deadlines.rows.2.response", "from": 2, "to": 1} in trail[0].changes
    assert {"path": "deadlines.rows.2.supportStart", "from": 20, "to": 8} in trail[0].changes
    assert len(trail[0].changes) == 3


async def test_a_put_is_validated_as_completely_as_the_file(client, db) -> None:
    await seed_programmes()
    admin, staff = await auth_for(client, "admin"), await auth_for(client, "staff")
    policy = (await client.get(POLICY, headers=admin)).json()["policy"]
    bad = copy.deepcopy(policy)
    bad["municipalities"] = []
    bad["deadlines"]["rows"][0]["response"] = -1
    bad["residence"]["postcodeRanges"] = [[3089, 3000]]
    bad["routing"]["rules"][0]["when"]["anyConcern"] = ["sadness"]
    bad["colour"] = "blue"
    r = await client.put(POLICY, json={"effectiveFrom": "2020-01-01T00:00:00Z", "policy": bad}, headers=admin)
    assert r.status_code == 400, r.text
    names = {p["name"] for p in r.json()["invalidParams"]}
    assert names == {
        "effectiveFrom",
        "policy.municipalities",
        "policy.deadlines.rows[0].response",
        "policy.residence.postcodeRanges",
        "policy.routing.rules[0].when.anyConcern",
        "policy.colour",
    }, r.json()
    unknown_programme = copy.deepcopy(policy)
    unknown_programme["routing"]["rules"][0]["programme"] = "buurtteam"
    r = await client.put(POLICY, json={"policy": unknown_programme}, headers=admin)
    assert r.status_code == 400
    assert r.json()["invalidParams"][0]["name"] == "policy.routing.rules[0].programme"
    # The same checks for a draft in the simulators, nothing stored.
    r = await client.post(
        "/api/v1/deadlines/simulate",
        json={"receivedAt": clock.now().isoformat(), "pregnancy": {"pregnant": False}, "policy": bad},
        headers=staff,
    )
    assert r.status_code == 400 and "policy.deadlines.rows[0].response" in {
        p["name"] for p in r.json()["invalidParams"]
    }
    assert await db.scalar(select(func.count()).select_from(RegionPolicyVersion)) == 1
    assert await db.scalar(select(func.count()).select_from(AdminTrailEntry)) == 0
    # Staff may read, not write.
    assert (await client.put(POLICY, json={"policy": policy}, headers=staff)).status_code == 403
