"""Consent withdrawal takes effect at once; the meldcode basis; erasure after retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from app import clock
from app.db import session_factory
from app.jobs import retention
from app.webhooks.models import Event
from tests.intakes.test_lifecycle import act, now_iso
from tests.support.helpers import auth_for, referral, seed_programmes


@pytest.fixture
async def actors(client) -> dict[str, dict[str, str]]:
    await seed_programmes()
    return {role: await auth_for(client, role) for role in ("referrer", "staff", "mvr")}


async def handed_off(client, actors, **overrides: Any) -> tuple[str, dict[str, Any]]:
    """A referral taken to an offered handoff to Moeders van Rotterdam."""
    staff = actors["staff"]
    r = await client.post("/api/v1/referrals", json=referral(**overrides), headers=actors["referrer"])
    assert r.status_code == 201, r.text
    base = f"/api/v1/intakes/{r.json()['id']}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "phone", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    handoff = await act(client, staff, f"{base}/handoffs", expect=201)
    return base, handoff


def consent_id(intake: dict[str, Any], scope: str) -> str:
    return str(next(c["id"] for c in intake["consents"] if c["scope"] == scope and c["given"]))


async def types_of(db, intake_id: str) -> list[str]:
    return list((await db.scalars(select(Event.type).where(Event.intake_id == intake_id).order_by(Event.seq))).all())


async def test_share_withdrawal_revokes_handoff_and_read_access(client, db, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    base, handoff = await handed_off(client, actors)
    assert (await client.get(base, headers=mvr)).status_code == 200
    intake = (await client.get(base, headers=staff)).json()
    r = await client.post(
        f"{base}/consents/{consent_id(intake, 'share_with_programme')}/withdraw",
        json={"at": now_iso(), "note": "Wil geen overdracht meer."},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    assert r.json()["given"] is False and r.json()["withdraws"] is not None
    # The programme's very next read is 404, and so is acting on the handoff.
    assert (await client.get(base, headers=mvr)).status_code == 404
    assert (await client.post(f"/api/v1/handoffs/{handoff['id']}/accept", json={}, headers=mvr)).status_code == 404
    after = (await client.get(base, headers=staff)).json()
    assert after["handoffs"][0]["status"] == "revoked" and after["status"] == "assessed"
    events = await types_of(db, after["id"])
    assert events[-2:] == ["handoff.revoked", "consent.withdrawn"]
    # Withdrawing twice is a conflict; the history keeps both records.
    again = await client.post(
        f"{base}/consents/{consent_id(intake, 'share_with_programme')}/withdraw", json={"at": now_iso()}, headers=staff
    )
    assert again.status_code == 409
    history = (await client.get(f"{base}/consents", headers=staff)).json()["items"]
    assert [(c["scope"], c["given"]) for c in history if c["scope"] == "share_with_programme"] == [
        ("share_with_programme", True),
        ("share_with_programme", False),
    ]


async def test_feedback_withdrawal_shrinks_referrer_view(client, actors) -> None:
    staff, referrer = actors["staff"], actors["referrer"]
    base, _ = await handed_off(client, actors)
    intake_id = base.rsplit("/", 1)[1]
    full = (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).json()
    assert full["status"] == "handed_off" and full["programmes"][0]["name"] == "Moeders van Rotterdam"
    intake = (await client.get(base, headers=staff)).json()
    r = await client.post(
        f"{base}/consents/{consent_id(intake, 'feedback_to_referrer')}/withdraw", json={"at": now_iso()}, headers=staff
    )
    assert r.status_code == 201
    shrunk = (await client.get(f"/api/v1/referrals/{intake_id}", headers=referrer)).json()
    assert shrunk == {"id": intake_id, "reference": full["reference"], "receivedAt": full["receivedAt"],
                      "status": "received", "feedback": False,
                      "programmes": [], "contactPerson": None, "closeReason": None,
                      "dates": dict.fromkeys(full["dates"])}  # fmt: skip


async def test_processing_withdrawal_closes_and_erases(client, db, actors) -> None:
    staff, mvr = actors["staff"], actors["mvr"]
    base, _ = await handed_off(client, actors)
    intake = (await client.get(base, headers=staff)).json()
    r = await client.post(
        f"{base}/consents/{consent_id(intake, 'processing')}/withdraw", json={"at": now_iso()}, headers=staff
    )
    assert r.status_code == 201
    closed = (await client.get(base, headers=staff)).json()
    assert closed["status"] == "closed" and closed["closeReason"] == "consent_withdrawn"
    assert closed["handoffs"][0]["status"] == "revoked"
    assert (await client.get(base, headers=mvr)).status_code == 404
    assert "consent.withdrawn" in await types_of(db, intake["id"])
    # Erasure is due at once; the retention job does it.
    async with session_factory()() as session:
        assert await retention.erase_due(session, clock.now()) == 1
        await session.commit()
    erased = (await client.get(base, headers=staff)).json()
    assert erased["erased"] is True and erased["client"] is None and erased["narrative"] is None
    assert (
        erased["referrer"] is None
        and erased["pregnancy"]["pregnant"] is True
        and erased["pregnancy"]["dueDate"] is None
    )
    assert erased["concerns"]  # anonymous facts stay
    row = (
        await db.execute(text("SELECT bsn, phone, family_name_key FROM intakes WHERE id = :i"), {"i": intake["id"]})
    ).one()
    assert tuple(row) == (None, None, None)


async def test_erasure_after_retention_period(client, actors) -> None:
    staff = actors["staff"]
    r = await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])
    base = f"/api/v1/intakes/{r.json()['id']}"
    await act(client, staff, f"{base}/close", {"reason": "unreachable", "note": "Drie keer gebeld."})
    async with session_factory()() as session:
        assert await retention.erase_due(session, clock.now()) == 0
        clock.advance(timedelta(days=729))
        assert await retention.erase_due(session, clock.now()) == 0
        clock.advance(timedelta(days=2))
        assert await retention.erase_due(session, clock.now()) == 1
        await session.commit()
    data = (await client.get(base, headers=staff)).json()
    assert data["erased"] and data["client"] is None
    log = (await client.get(f"{base}/access-log", headers=staff)).json()["items"]
    assert any(row["action"] == "erase" and row["basis"] == "retention" for row in log)


async def test_meldcode_referral_and_basis_recorded_later(client, actors) -> None:
    staff = actors["staff"]
    meldcode = referral(
        legalBasis="meldcode",
        justification="Acute zorg om de veiligheid van het ongeboren kind; zij weigert nu elk contact.",
        safetyConcern=True,
        **{"consent.clientConsented": False, "consent.scopes": []},
    )
    r = await client.post("/api/v1/referrals", json=meldcode, headers=actors["referrer"])
    assert r.status_code == 201, r.text
    intake_id = r.json()["id"]
    data = (await client.get(f"/api/v1/intakes/{intake_id}", headers=staff)).json()
    assert data["legalBasis"] == "meldcode" and data["consents"] == []
    # Without consent the referrer sees only "received"; every access is logged with the meldcode basis.
    assert (await client.get(f"/api/v1/referrals/{intake_id}", headers=actors["referrer"])).json()["feedback"] is False
    log = (await client.get(f"/api/v1/intakes/{intake_id}/access-log", headers=staff)).json()["items"]
    staff_rows = [row for row in log if row["organisation"] == "aanmeldpunt-rotterdam"]
    assert staff_rows and all(row["basis"] == "meldcode" for row in staff_rows)
    # The handoff may go on the meldcode basis.
    base = f"/api/v1/intakes/{intake_id}"
    await act(client, staff, f"{base}/contacts", {"at": now_iso(), "channel": "visit", "reached": True})
    await act(client, staff, f"{base}/routing", {"programme": "moeders-van-rotterdam"})
    await act(client, staff, f"{base}/handoffs", expect=201)

    # An intake received on consent: staff record the meldcode basis later, with a justification.
    r = await client.post("/api/v1/referrals", json=referral(), headers=actors["referrer"])
    later = f"/api/v1/intakes/{r.json()['id']}"
    short = await client.post(
        f"{later}/legal-basis", json={"basis": "meldcode", "justification": "te kort"}, headers=staff
    )
    assert short.status_code == 400 and short.json()["invalidParams"][0]["name"] == "justification"
    no_safety = await client.post(
        f"{later}/legal-basis", json={"basis": "meldcode", "justification": "x" * 30}, headers=staff
    )
    assert no_safety.status_code == 400 and no_safety.json()["invalidParams"][0]["name"] == "safetyConcern"
    await client.patch(later, json={"safetyConcern": True}, headers=staff)
    ok = await client.post(
        f"{later}/legal-basis",
        json={"basis": "meldcode", "justification": "Huiselijk geweld gezien bij huisbezoek."},
        headers=staff,
    )
    # One staff user's record waits for a second one (tests/consent/test_legal_basis.py has the rest).
    assert ok.status_code == 201 and ok.json()["status"] == "pending"
    assert (await client.get(later, headers=staff)).json()["legalBasis"] == "consent"
    # The referrer's own meldcode referral is in the case file as a confirmed row.
    bases = (await client.get(f"{base}/legal-basis", headers=staff)).json()["items"]
    assert [(b["source"], b["status"], b["confirmedBy"]) for b in bases] == [("referral", "confirmed", None)]
