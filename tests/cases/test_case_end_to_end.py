"""Issue 15, done when: one case end to end against a real server process over HTTP, with a
token per role (`aanmeldpunt demo`), its workers running, and a real webhook receiver that
verifies every delivery with `standardwebhooks`.

referral → coordinator → contact not reached, then reached → joint home intake with a wijkteam
worker → routing → two handoffs (moeders-van-rotterdam, wijkteam) → the wijkteam declines, Moeders
van Rotterdam starts support → a case meeting with an agreement that runs overdue →
`agreement.overdue` at the receiver → the case file shows every step in order with who did it →
the first programme sees the involvements but not the other programme's decline reason."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from tests.support.helpers import referral
from tests.support.live import LiveServer
from tests.support.receiver import Receiver, start

DECLINE_REASON = "Geen capaciteit in de wijk tot februari."


def now() -> str:
    return datetime.now(UTC).isoformat()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(http: httpx.AsyncClient, method: str, path: str, token: str, body: Any = None, expect: int = 200) -> Any:
    r = await http.request(method, f"/api/v1{path}", json=body, headers=bearer(token))
    assert r.status_code == expect, (method, path, r.status_code, r.text)
    return r.json()


async def test_one_case_end_to_end(database_url: str) -> None:
    receiver = Receiver()
    listener = start(receiver)
    server = LiveServer(
        database_url,
        env={"RUN_WORKERS": "true", "WORKER_POLL_SECONDS": "0.5", "WEBHOOK_ALLOW_LOOPBACK_HTTP": "true"},
    ).start()
    try:
        tokens = server.demo_tokens()
        staff, referrer, admin = tokens["staff"], tokens["referrer"], tokens["admin"]
        mvr, wijkteam = tokens["programme:moeders-van-rotterdam"], tokens["programme:wijkteam"]
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            sub = await call(
                http,
                "POST",
                "/webhook-subscriptions",
                admin,
                {
                    "url": receiver.url("ok", "aanmeldpunt"),
                    "eventTypes": ["agreement.overdue", "intake.coordinator_changed"],
                    "organisation": "aanmeldpunt-rotterdam",
                },
                201,
            )
            receiver.secrets["aanmeldpunt"] = [sub["secret"]]

            # Referral, coordinator, contact not reached then reached.
            intake_id = (await call(http, "POST", "/referrals", referrer, referral(), 201))["id"]
            case = f"/intakes/{intake_id}"
            coordinator = {"name": "Karin Bakker", "phone": "010 123 4567", "userId": "k.bakker"}
            await call(http, "PUT", f"{case}/coordinator", staff, coordinator)
            await call(http, "POST", f"{case}/contacts", staff, {"at": now(), "channel": "phone", "reached": False})
            await call(http, "POST", f"{case}/contacts", staff, {"at": now(), "channel": "phone", "reached": True})
            # A joint intake at home with a wijkteam worker.
            participant = {
                "role": "wijkteam",
                "organisation": "wijkteam-rotterdam",
                "professionalName": "Annemiek de Wit",
            }
            await call(
                http,
                "POST",
                f"{case}/assessment",
                staff,
                {
                    "visitedAt": now(),
                    "location": "home",
                    "concerns": ["social_isolation"],
                    "participants": [participant],
                },
            )
            # Routing, then two supports at once.
            routed = await call(http, "POST", f"{case}/routing", staff, {})
            assert routed["routing"]["recommendation"]["programme"] == "moeders-van-rotterdam"
            await call(http, "POST", f"{case}/routing", staff, {"programme": "moeders-van-rotterdam"})
            first = await call(http, "POST", f"{case}/handoffs", staff, {}, 201)
            second = await call(
                http,
                "POST",
                f"{case}/handoffs",
                staff,
                {"programme": "wijkteam", "reason": "Basisondersteuning naast de coaching."},
                201,
            )
            # The wijkteam declines; Moeders van Rotterdam accepts and starts support.
            await call(http, "POST", f"/handoffs/{second['id']}/decline", wijkteam, {"reason": DECLINE_REASON})
            await call(http, "POST", f"/handoffs/{first['id']}/accept", mvr)
            await call(http, "POST", f"/handoffs/{first['id']}/first-contact", mvr, {"at": now()})
            await call(http, "POST", f"/handoffs/{first['id']}/support-started", mvr, {"at": now()})
            intake = await call(http, "GET", case, staff)
            assert intake["status"] == "support_started"
            # A case meeting with an agreement due today.
            today = datetime.now(UTC).astimezone().date().isoformat()
            meeting = await call(
                http,
                "POST",
                f"{case}/case-meetings",
                staff,
                {
                    "at": now(),
                    "participants": [
                        {
                            "role": "programme",
                            "organisation": "moeders-van-rotterdam",
                            "professionalName": "Coach Fatima",
                        },
                        participant,
                    ],
                    "summary": "MDO: schulden, huisvesting, eenzaamheid.",
                    "agreements": [{"what": "Schuldhulp aanvragen", "owner": "Wijkteam Annemiek", "dueDate": today}],
                },
                201,
            )
            agreement_id = meeting["agreements"][0]["id"]
            # Days pass (the server's clock cannot be moved from outside): the agreement's date
            # is set two days back, as if the meeting had been two days ago.
            pg = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
            try:
                await pg.execute(
                    "UPDATE case_agreements SET due_date = due_date - 2 WHERE id = $1",
                    uuid.UUID(agreement_id),
                )
            finally:
                await pg.close()
            overdue = (await call(http, "GET", "/intakes?agreementsOverdue=true", staff))["items"]
            assert [i["id"] for i in overdue] == [intake_id]
            # agreement.overdue arrives at the receiver, verified, once.
            deadline = time.monotonic() + 40
            arrived: list[Any] = []
            while time.monotonic() < deadline:
                arrived = [a for a in receiver.of("aanmeldpunt") if a.body["type"] == "agreement.overdue"]
                if arrived:
                    break
                await asyncio.sleep(0.5)
            assert len(arrived) == 1 and arrived[0].verified, arrived
            data = arrived[0].body["data"]
            assert data["agreementId"] == agreement_id and data["intakeId"] == intake_id
            assert "Schuldhulp" not in arrived[0].raw.decode() and "Samira" not in arrived[0].raw.decode()
            await asyncio.sleep(1.5)  # a few more monitor ticks: still once
            assert len([a for a in receiver.of("aanmeldpunt") if a.body["type"] == "agreement.overdue"]) == 1

            # The case file shows every step in order, with who did it.
            entries = (await call(http, "GET", f"{case}/timeline?limit=200", staff))["items"]
            assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
            steps = [
                ("received", "verloskundigen-zuid"),
                ("coordinator_changed", "aanmeldpunt-rotterdam"),
                ("contact_attempt", "aanmeldpunt-rotterdam"),
                ("contact_attempt", "aanmeldpunt-rotterdam"),
                ("assessment", "aanmeldpunt-rotterdam"),
                ("involvement_added", "aanmeldpunt-rotterdam"),
                ("routing_recommendation", "aanmeldpunt-rotterdam"),
                ("routing_decision", "aanmeldpunt-rotterdam"),
                ("handoff_offered", "aanmeldpunt-rotterdam"),
                ("handoff_offered", "aanmeldpunt-rotterdam"),
                ("handoff_declined", "wijkteam-rotterdam"),
                ("handoff_accepted", "moeders-van-rotterdam"),
                ("handoff_first_contact", "moeders-van-rotterdam"),
                ("handoff_support_started", "moeders-van-rotterdam"),
                ("case_meeting", "aanmeldpunt-rotterdam"),
            ]
            seen = [(e["type"], e["actor"]["organisation"]) for e in entries if e["type"] in {s for s, _ in steps}]
            assert seen == steps, seen
            attempts = [e["details"]["reached"] for e in entries if e["type"] == "contact_attempt"]
            assert attempts == [False, True]
            declined = next(e for e in entries if e["type"] == "handoff_declined")
            assert declined["details"]["reason"] == DECLINE_REASON  # staff read why

            # The first programme sees who is involved, but not the other programme's decline reason.
            involved = (await call(http, "GET", f"{case}/involvements", mvr))["items"]
            assert {(i["source"], i["role"]) for i in involved} >= {("referral", "midwife"), ("assessment", "wijkteam")}
            assert [i["organisation"] for i in involved if i["source"] == "handoff"] == ["moeders-van-rotterdam"]
            assert any(i["professionalName"] == "Annemiek de Wit" for i in involved)
            theirs = await http.get(f"/api/v1{case}/timeline", headers=bearer(mvr))
            view = await http.get(f"/api/v1{case}", headers=bearer(mvr))
            for answer in (theirs, view):
                assert answer.status_code == 200 and DECLINE_REASON not in answer.text, answer.text
            assert {e["type"] for e in theirs.json()["items"]} <= {
                "coordinator_changed",
                "involvement_added",
                "involvement_ended",
                "handoff_offered",
                "handoff_accepted",
                "handoff_first_contact",
                "handoff_support_started",
            }
            # The declining wijkteam no longer sees the case at all.
            assert (await http.get(f"/api/v1{case}/involvements", headers=bearer(wijkteam))).status_code == 404
    finally:
        server.stop()
        listener.shutdown()
