"""The transactional outbox: an event and its deliveries are written in the transaction of
the change that caused it, so a committed change always has its events, and a rolled-back
one never does. Who receives what is decided here (and checked again at delivery)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.consent.rules import Action, ConsentLike, decide
from app.db import driver

EVENT_TYPES = (
    "intake.received",
    "intake.contacted",
    "intake.assessed",
    "intake.routed",
    "handoff.offered",
    "handoff.accepted",
    "handoff.declined",
    "handoff.revoked",
    "intake.support_started",
    "intake.closed",
    "deadline.approaching",
    "deadline.breached",
    "consent.withdrawn",
    "endpoint.disabled",
)

_EVENT_AND_SUBSCRIBERS = """
WITH new_event AS (
    INSERT INTO events (id, type, intake_id, region, occurred_at, data) VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING seq
)
SELECT new_event.seq, s.id, s.organisation_id, o.kind
FROM new_event
LEFT JOIN (webhook_subscriptions s JOIN organisations o ON o.id = s.organisation_id)
    ON s.enabled AND s.event_types @> ARRAY[$2::varchar]
    AND o.region = $4  -- an event goes only to subscriptions of its own region
"""
_INSERT_DELIVERY = """
INSERT INTO webhook_deliveries (id, event_id, event_seq, subscription_id, intake_id, status, attempts,
    next_attempt_at, created_at)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)
"""


@dataclass(frozen=True)
class Audience:
    """What decides which organisations may hear about an intake."""

    referrer_organisation_id: uuid.UUID | None
    legal_basis: str
    consents: Sequence[ConsentLike]
    handoff_organisations: frozenset[uuid.UUID]  # offered/accepted/started, not revoked/declined
    extra_organisations: frozenset[uuid.UUID] = frozenset()  # e.g. the org whose handoff was revoked


def may_receive(kind: str, organisation_id: uuid.UUID, audience: Audience | None) -> bool:
    if kind == "aanmeldpunt":
        return True
    if audience is None:
        return False
    if organisation_id in audience.extra_organisations:
        return True
    if organisation_id in audience.handoff_organisations:
        return bool(decide(audience.consents, Action.PROGRAMME_READ, audience.legal_basis))
    if organisation_id == audience.referrer_organisation_id:
        return bool(decide(audience.consents, Action.REFERRER_FEEDBACK, audience.legal_basis))
    return False


async def emit(
    db: AsyncSession,
    event_type: str,
    data: dict[str, Any],
    *,
    intake_id: uuid.UUID | None,
    region: str,
    audience: Audience | None,
    only_organisation_kind: str | None = None,
    at: datetime | None = None,
) -> uuid.UUID:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    event_id = uuid.uuid4()
    occurred = at or clock.now()
    pg = await driver(db)  # plain SQL in the change's transaction: every change emits (app.db.driver)
    # One round trip: the event is inserted, and the subscriptions that want its type come back with its seq.
    result = await pg.fetch(_EVENT_AND_SUBSCRIBERS, event_id, event_type, intake_id, region, occurred, json.dumps(data))
    rows = [
        (uuid.uuid4(), event_id, row["seq"], row["id"], intake_id, occurred)
        for row in result
        if row["id"] is not None
        and (only_organisation_kind is None or row["kind"] == only_organisation_kind)
        and may_receive(row["kind"], row["organisation_id"], audience)
    ]
    if rows:
        await pg.executemany(_INSERT_DELIVERY, rows)
    return event_id
