"""What webhook delivery asks of an intake as it is at delivery (the protocol
app.webhooks.dispatcher.IntakeLookup). Webhooks sit below intakes, so the dispatcher does
not import this: the worker (the composition root) hands it `LOOKUP`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.intakes.events import for_programme
from app.intakes.models import Intake
from app.intakes.service import load_bundle, own_programmes
from app.webhooks.outbox import Audience


class DeliveryLookup:
    async def audience(self, db: AsyncSession, intake_id: uuid.UUID, *, handoff_id: object = None) -> Audience | None:
        """Who may hear of the intake now (None: there is no such intake)."""
        bundle = await load_bundle(db, intake_id)
        return None if bundle is None else bundle.audience(handoff_id=handoff_id)

    async def own_referral(
        self, db: AsyncSession, intake_id: uuid.UUID, organisation_id: uuid.UUID
    ) -> tuple[uuid.UUID, str] | None:
        """The referrer's own referral among the intake and those merged into it: the intake
        itself first, else the earliest merged one (None: it referred none of them)."""
        own = (
            await db.execute(
                select(Intake.id, Intake.reference)
                .where(
                    Intake.referrer_organisation_id == organisation_id,
                    (Intake.id == intake_id) | (Intake.merged_into == intake_id),
                )
                .order_by((Intake.id == intake_id).desc(), Intake.received_at)
                .limit(1)
            )
        ).first()
        return None if own is None else (uuid.UUID(str(own.id)), str(own.reference))

    async def for_programme(
        self, db: AsyncSession, intake_id: uuid.UUID, organisation_id: uuid.UUID, data: dict[str, Any]
    ) -> dict[str, Any]:
        """A programme organisation's copy of an event's data (app.intakes.events.for_programme)."""
        return for_programme(data, await own_programmes(db, intake_id, organisation_id))


LOOKUP = DeliveryLookup()
