"""Who is calling, and what they may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

SCOPES = {
    "referrals:write": "Create referrals (referrer systems).",
    "referrals:read": "Read referrals your own organisation made.",
    "intakes:read": "Read every intake of the region (aanmeldpunt staff).",
    "intakes:write": "Work intakes: contacts, assessment, routing, handoffs, consents (staff).",
    "handoffs:write": "Read intakes offered to your organisation and act on the handoff (programmes).",
    "admin": "Organisations, clients, programmes, webhook subscriptions.",
    "statistics:read": "Figures of the region with small cells suppressed (municipality, evaluators).",
    "research:export": "The pseudonymised research export of intakes with research consent.",
}

ORGANISATION_KINDS = ("referrer", "programme", "wijkteam", "aanmeldpunt")


@dataclass(frozen=True)
class Principal:
    client_id: str
    organisation_id: uuid.UUID
    organisation_code: str
    organisation_kind: str
    region: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    user: str | None = None

    def has(self, *scopes: str) -> bool:
        return any(scope in self.scopes for scope in scopes)

    @property
    def is_staff(self) -> bool:
        return "intakes:read" in self.scopes
