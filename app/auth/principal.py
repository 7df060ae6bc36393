"""Who is calling, and what they may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.vocab import OAuthScope, OrganisationKind

# What each scope allows, as the OpenAPI document's OAuth2 flow lists it.
SCOPES: dict[str, str] = {
    OAuthScope.REFERRALS_WRITE: "Create referrals (referrer systems).",
    OAuthScope.REFERRALS_READ: "Read referrals your own organisation made.",
    OAuthScope.INTAKES_READ: "Read every intake of the region (aanmeldpunt staff).",
    OAuthScope.INTAKES_WRITE: "Work intakes: contacts, assessment, routing, handoffs, consents (staff).",
    OAuthScope.HANDOFFS_WRITE: "Read intakes offered to your organisation and act on the handoff (programmes).",
    OAuthScope.ADMIN: "Organisations, clients, programmes, webhook subscriptions.",
    OAuthScope.STATISTICS_READ: "Figures of the region with small cells suppressed (municipality, evaluators).",
    OAuthScope.RESEARCH_EXPORT: "The pseudonymised research export of intakes with research consent.",
}


ORGANISATION_KINDS = tuple(OrganisationKind)


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
        return OAuthScope.INTAKES_READ in self.scopes
