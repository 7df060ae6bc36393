"""Which organisation and scopes an external identity provider's token acts with: only what
the configured mapping (`EXTERNAL_MAPPING`) grants. The token's own `org` and `scope` claims
never widen it: the organisation is the mapping's, the scopes are the mapping's intersected
with the token's `scope` claim (all of the mapping's when the token carries no `scope`).

Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.config import ExternalMappingRule

__all__ = ["ExternalGrant", "ExternalMappingRule", "NotMapped", "grant"]


@dataclass(frozen=True)
class ExternalGrant:
    organisation: str
    scopes: frozenset[str]


class NotMapped(Exception):
    """The token matches no rule, or rules naming different organisations (the message is safe
    to show)."""


def _claim_has(claims: Mapping[str, Any], name: str, value: str) -> bool:
    found = claims.get(name)
    if isinstance(found, str):
        return found == value
    if isinstance(found, list | tuple):
        return any(isinstance(item, str) and item == value for item in found)
    return False


def grant(claims: Mapping[str, Any], rules: Sequence[ExternalMappingRule]) -> ExternalGrant:
    issuer = claims.get("iss")
    matching = [r for r in rules if r.issuer == issuer and _claim_has(claims, r.claim, r.value)]
    if not matching:
        raise NotMapped("No mapping of this identity provider grants this account access.")
    organisations = {r.organisation for r in matching}
    if len(organisations) > 1:
        raise NotMapped("The mapping puts this account in more than one organisation.")
    allowed = frozenset(scope for r in matching for scope in r.scopes)
    requested = claims.get("scope")
    if isinstance(requested, str):
        scopes = allowed & frozenset(requested.split())
    elif "scope" in claims:
        scopes = frozenset()  # a scope claim of another shape asks for nothing we understand
    else:
        scopes = allowed
    if not scopes:
        raise NotMapped("The token asks for no scope the mapping allows this account.")
    return ExternalGrant(organisations.pop(), scopes)
