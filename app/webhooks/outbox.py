"""The transactional outbox: an event and its deliveries are written in the transaction of
the change that caused it, so a committed change always has its events, and a rolled-back
one never does. Who receives what is decided here (and checked again at delivery)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.consent.audience import Audience, is_notice, may_hear
from app.db import driver
from app.vocab import EventType, OrganisationKind
from app.webhooks.events import EventModel

EVENT_TYPES = tuple(EventType)  # the vocabulary is app.vocab.EventType

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
    next_attempt_at, created_at, notice)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $7)
"""


__all__ = ["EVENT_TYPES", "Audience", "EventType", "emit", "may_receive"]


def may_receive(
    kind: str,
    organisation_id: uuid.UUID,
    audience: Audience | None,
    *,
    event_type: str | None = None,
    notice: bool = False,
) -> bool:
    """The one audience rule (app.consent.audience.may_hear), at fan-out, delivery and replay."""
    return may_hear(event_type, kind, organisation_id, audience, notice=notice)


async def emit(
    db: AsyncSession,
    event_type: EventType,
    data: EventModel,
    *,
    intake_id: uuid.UUID | None,
    region: str,
    audience: Audience | None,
    only_organisation_kind: str | None = None,
    at: datetime | None = None,
) -> uuid.UUID:
    EventType(event_type)  # ValueError for an unknown type: a programming error, not input
    event_id = uuid.uuid4()
    occurred = at or clock.now()
    pg = await driver(db)  # plain SQL in the change's transaction: every change emits (app.db.driver)
    # One round trip: the event is inserted, and the subscriptions that want its type come back with its seq.
    result = await pg.fetch(
        _EVENT_AND_SUBSCRIBERS, event_id, event_type, intake_id, region, occurred, json.dumps(data.wire())
    )
    rows = [
        (uuid.uuid4(), event_id, row["seq"], row["id"], intake_id, occurred, notice)
        for row in result
        if row["id"] is not None
        for notice in [
            row["kind"] != OrganisationKind.AANMELDPUNT and is_notice(event_type, row["organisation_id"], audience)
        ]
        if (only_organisation_kind is None or row["kind"] == only_organisation_kind)
        and may_receive(row["kind"], row["organisation_id"], audience, event_type=event_type, notice=notice)
    ]
    if rows:
        await pg.executemany(_INSERT_DELIVERY, rows)
    return event_id
