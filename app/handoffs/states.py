"""The states of one handoff (API.md, second wave), pure:
`offered` → `accepted` | `declined` → `first_contact` → `support_started` → `ended`;
`revoked` from any live state."""

from __future__ import annotations

from enum import StrEnum


class HandoffState(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    FIRST_CONTACT = "first_contact"
    SUPPORT_STARTED = "support_started"
    ENDED = "ended"
    REVOKED = "revoked"


# While live, the programme may read the intake (app.consent.audience) and the handoff
# may still be revoked.
LIVE = frozenset(
    {HandoffState.OFFERED, HandoffState.ACCEPTED, HandoffState.FIRST_CONTACT, HandoffState.SUPPORT_STARTED}
)
