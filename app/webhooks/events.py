"""The base of every webhook event's `data` model, and the data of the one event that is
about a subscription rather than an intake (the intakes' own: app/intakes/events.py)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ConfigDict

from app.http.schemas import OutModel


class EventModel(OutModel):
    """An event's data: camelCase, exactly these fields (an unknown one is refused)."""

    model_config = ConfigDict(extra="forbid")

    def wire(self) -> dict[str, Any]:
        """As stored with the event and sent: by alias, timestamps in UTC with `Z`."""
        return self.model_dump(mode="json", by_alias=True)


class EndpointDisabledData(EventModel):
    """`endpoint.disabled` (aanmeldpunt subscriptions only)."""

    subscription_id: uuid.UUID
    reason: str
