"""Audit gaps (issue 13 point 11): access-log rows for webhook delivery reads, replays and
idempotent replays; every administrative change in the durable admin trail (who, when, what),
readable by the region's admins; names normalised before they are stored and matched."""

from __future__ import annotations

import uuid
from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, select

from app import clock
from app.audit.models import AccessLogEntry, AdminTrailEntry
from app.names import checked_name, match_key, normalise_name
from tests.support.helpers import auth_for, make_client, referral, seed_programmes, token

NAMES = [
    ("Jansen", "Jansen"),
    ("Jan\u200bsen", "Jansen"),  # zero width space
    ("Jan\u200c\u200dsen", "Jansen"),  # zero width (non-)joiner
    ("\ufeffJansen", "Jansen"),  # BOM
    ("Jan\u2060sen", "Jansen"),  # word joiner
    ("\u202eJansen\u202c", "Jansen"),  # right-to-left override ... pop
    ("\u2067Jansen\u2069", "Jansen"),  # isolates
    ("Jansen\u200f", "Jansen"),  # right-to-left mark
    ("Jose\u0301", "Jos\u00e9"),  # decomposed e + acute becomes the composed é (NFC)
    ("  De   Vries ", "De Vries"),
    ("Ça\u00adva", "Çava"),  # soft hyphen
    ("\u0645\u062d\u0645\u062f", "\u0645\u062d\u0645\u062f"),  # Arabic letters stay
]


@pytest.mark.parametrize(("raw", "normal"), NAMES)
def test_names_are_normalised(raw: str, normal: str) -> None:
    assert normalise_name(raw) == normal
    assert normalise_name(normal) == normal  # idempotent


def test_match_keys_of_look_alikes_are_equal() -> None:
    assert match_key("Jan\u200bsen") == match_key("JANSEN") == match_key("\u202ejansen")


@pytest.mark.parametrize("raw", ["\u200b", "\u202e\u202c", " \u2060 "])
def test_a_name_of_invisible_characters_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="visible"):
        checked_name(raw)


async def test_invisible_characters_do_not_defeat_duplicate_matching(client) -> None:
    staff, referrer = await auth_for(client, "staff"), await auth_for(client, "referrer")
    first = await client.post("/api/v1/referrals", json=referral(**{"client.bsn": None}), headers=referrer)
    assert first.status_code == 201, first.text
    look_alike = referral(**{"client.bsn": None, "client.familyName": "\u202eJan\u200bsen\u202c"})
    second = await client.post("/api/v1/referrals", json=look_alike, headers=referrer)
    assert second.status_code == 201, second.text
    intake = (await client.get(f"/api/v1/intakes/{second.json()['id']}", headers=staff)).json()
    assert intake["client"]["familyName"] == "Jansen"  # stored normalised
    assert first.json()["id"] in intake["possibleDuplicates"]
    blank = await client.post(
        "/api/v1/referrals", json=referral(**{"client.givenName": "\u200b\u200d"}), headers=referrer
    )
    assert blank.status_code == 400 and blank.json()["invalidParams"][0]["name"] == "client.givenName"


async def _log_rows(db, action: str) -> list[AccessLogEntry]:
    db.expire_all()
    rows = list((await db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == action))).all())
    await db.commit()
    return rows


async def test_webhook_reads_replays_and_idempotent_replays_are_in_the_access_log(client, db, app) -> None:
    await seed_programmes()
    admin, referrer = await auth_for(client, "admin"), await auth_for(client, "referrer")
    sub = await client.post(
        "/api/v1/webhook-subscriptions",
        json={
            "url": "http://127.0.0.1:9/hook",
            "eventTypes": ["intake.received"],
            "organisation": "aanmeldpunt-rotterdam",
        },
        headers=admin,
    )
    assert sub.status_code == 201
    key = {"Idempotency-Key": str(uuid.uuid4())}
    created = await client.post("/api/v1/referrals", json=referral(), headers={**referrer, **key})
    intake_id = created.json()["id"]

    # The same request again: the stored answer (with her data) is a read, logged as such.
    again = await client.post("/api/v1/referrals", json=referral(), headers={**referrer, **key})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    (row,) = await _log_rows(db, "idempotent_replay")
    assert str(row.intake_id) == intake_id and row.organisation == "verloskundigen-zuid"

    deliveries = await client.get(f"/api/v1/webhook-subscriptions/{sub.json()['id']}/deliveries", headers=admin)
    assert deliveries.status_code == 200 and deliveries.json()["items"]
    (row,) = await _log_rows(db, "webhook_delivery_read")
    assert str(row.intake_id) == intake_id and row.organisation == "aanmeldpunt-rotterdam" and row.basis == "admin"

    since = (clock.now() - timedelta(hours=1)).isoformat()
    replay = await client.post(
        f"/api/v1/webhook-subscriptions/{sub.json()['id']}/replay", json={"since": since}, headers=admin
    )
    assert replay.json()["queued"] == 1
    (row,) = await _log_rows(db, "webhook_replay")
    assert str(row.intake_id) == intake_id


async def test_admin_changes_are_in_the_durable_trail(client, db) -> None:
    await seed_programmes("rotterdam", "utrecht")
    admin = await auth_for(client, "admin")
    org = await client.post(
        "/api/v1/organisations",
        json={"code": "praktijk-west", "name": "Praktijk\u200b West", "kind": "referrer"},
        headers=admin,
    )
    assert org.status_code == 201 and org.json()["name"] == "Praktijk West"
    made = await client.post(
        "/api/v1/clients",
        json={"organisation": "praktijk-west", "name": "Systeem", "scopes": ["referrals:write"]},
        headers=admin,
    )
    new_client = made.json()["clientId"]
    assert (await client.delete(f"/api/v1/clients/{new_client}", headers=admin)).status_code == 204
    changed = await client.patch("/api/v1/programmes/voorzorg", json={"acceptingClients": False}, headers=admin)
    assert changed.status_code == 200, changed.text
    sub = await client.post(
        "/api/v1/webhook-subscriptions",
        json={"url": "http://127.0.0.1:9/a", "eventTypes": ["intake.received"], "organisation": "praktijk-west"},
        headers=admin,
    )
    sub_id = sub.json()["id"]
    await client.patch(f"/api/v1/webhook-subscriptions/{sub_id}", json={"enabled": False}, headers=admin)
    await client.post(f"/api/v1/webhook-subscriptions/{sub_id}/rotate-secret", headers=admin)
    # A moment sent with an offset is still written on the wire in UTC with `Z` (the one format).
    since = clock.now().replace(microsecond=0) - timedelta(hours=1)
    await client.post(
        f"/api/v1/webhook-subscriptions/{sub_id}/replay",
        json={"since": since.astimezone(timezone(timedelta(hours=2))).isoformat()},
        headers=admin,
    )
    await client.delete(f"/api/v1/webhook-subscriptions/{sub_id}", headers=admin)

    # In the database, append-only, with who and what.
    db.expire_all()
    rows = list((await db.scalars(select(AdminTrailEntry).order_by(AdminTrailEntry.seq))).all())
    actions = [r.action for r in rows]
    assert actions == [
        "organisation.created",
        "client.created",
        "client.deactivated",
        "programme.changed",
        "webhook_subscription.created",
        "webhook_subscription.changed",
        "webhook_subscription.secret_rotated",
        "webhook_subscription.replay_queued",
        "webhook_subscription.deleted",
    ]
    assert {r.organisation for r in rows} == {"aanmeldpunt-rotterdam"} and {r.region for r in rows} == {"rotterdam"}
    programme = rows[3]
    assert programme.target == "programme voorzorg"
    assert programme.changes == [{"path": "acceptingClients", "from": True, "to": False}]
    assert rows[5].changes == [{"path": "enabled", "from": True, "to": False}]
    assert all("whsec_" not in str(r.changes) for r in rows)  # secrets never in the trail

    # Read back through the API, newest first, a page at a time.
    first = await client.get("/api/v1/admin-trail?limit=4", headers=admin)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["action"] for i in page["items"]] == actions[::-1][:4]
    assert page["items"][0]["clientId"] == rows[-1].client_id
    rest = await client.get(f"/api/v1/admin-trail?limit=50&cursor={page['nextCursor']}", headers=admin)
    assert [i["action"] for i in rest.json()["items"]] == actions[::-1][4:]
    assert rest.json()["nextCursor"] is None
    change = next(i for i in rest.json()["items"] if i["action"] == "programme.changed")["changes"][0]
    assert change == {"path": "acceptingClients", "from": True, "to": False}
    replayed = next(i for i in page["items"] if i["action"] == "webhook_subscription.replay_queued")["changes"][0]
    assert replayed == {"path": "since", "from": None, "to": clock.iso_z(since)}

    # Another region's admin sees none of it; staff may not read it at all.
    other_id, other_secret = await make_client("aanmeldpunt-utrecht", "aanmeldpunt", ["admin"], region="utrecht")
    other = {"Authorization": f"Bearer {await token(client, other_id, other_secret)}"}
    assert (await client.get("/api/v1/admin-trail", headers=other)).json()["items"] == []
    staff = await auth_for(client, "staff")
    assert (await client.get("/api/v1/admin-trail", headers=staff)).status_code == 403

    # The trail cannot be edited or deleted, even by a direct statement.
    with pytest.raises(Exception, match="append-only"):
        await db.execute(AdminTrailEntry.__table__.delete())
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(AdminTrailEntry)) == len(rows)
