"""The transactional outbox: an event and its deliveries are written in the transaction of
the change that caused it, so a committed change always has its events, and a rolled-back
one never does. Who receives what is decided here (and checked again at delivery)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.models import Organisation
from app.consent.rules import Action, ConsentLike, decide
from app.webhooks.models import Delivery, Event, Subscription

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
    region: str | None,
    audience: Audience | None,
    only_organisation_kind: str | None = None,
    at: datetime | None = None,
) -> uuid.UUID:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    event_id = uuid.uuid4()
    occurred = at or clock.now()
    # One round trip: the event is inserted, and the subscriptions that want its type come back with its seq.
    new_event = (
        insert(Event)
        .values(id=event_id, type=event_type, intake_id=intake_id, region=region, occurred_at=occurred, data=data)
        .returning(Event.seq)
        .cte("new_event")
    )
    wanted = (
        select(Subscription.id, Subscription.organisation_id, Organisation.kind)
        .join(Organisation, Organisation.id == Subscription.organisation_id)
        .where(Subscription.enabled.is_(True), Subscription.event_types.contains([event_type]))
        .subquery()
    )
    result = (
        await db.execute(
            select(new_event.c.seq, wanted.c.id, wanted.c.organisation_id, wanted.c.kind).select_from(
                new_event.outerjoin(wanted, true())
            )
        )
    ).all()
    seq = result[0][0]
    subscriptions = [(sub_id, org_id, kind) for _, sub_id, org_id, kind in result if sub_id is not None]
    rows = [
        {
            "id": uuid.uuid4(),
            "event_id": event_id,
            "event_seq": seq,
            "subscription_id": sub_id,
            "intake_id": intake_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": occurred,
            "created_at": occurred,
        }
        for sub_id, org_id, kind in subscriptions
        if (only_organisation_kind is None or kind == only_organisation_kind) and may_receive(kind, org_id, audience)
    ]
    if rows:
        await db.execute(insert(Delivery), rows)
    return event_id
