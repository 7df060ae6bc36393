"""The Router protocol and the facts it decides on (pure), plus plugin loading."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import entry_points
from typing import Any, Protocol

from app.regions.config import RegionConfig

ENTRY_POINT_GROUP = "aanmeldpunt.routers"


@dataclass(frozen=True)
class RoutingFacts:
    birth_date: date | None
    pregnant: bool
    due_date: date | None
    first_child: bool | None
    children_birth_dates: tuple[date, ...]
    concerns: tuple[str, ...]
    safety_concern: bool
    postcode: str | None
    city: str | None


@dataclass(frozen=True)
class ProgrammeInfo:
    code: str
    name: str
    accepting_clients: bool


@dataclass
class Recommendation:
    programme: str | None
    router: str
    rules_version: str
    vulnerability: str
    reasons: list[str] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    additional: list[dict[str, Any]] = field(default_factory=list)
    policy_version: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "programme": self.programme,
            "router": self.router,
            "rulesVersion": self.rules_version,
            "vulnerability": self.vulnerability,
            "reasons": self.reasons,
            "alternatives": self.alternatives,
            "excluded": self.excluded,
            "advice": self.advice,
            "additional": self.additional,
            "policyVersion": self.policy_version,
        }


class Router(Protocol):
    name: str

    def recommend(
        self,
        facts: RoutingFacts,
        catalogue: list[ProgrammeInfo],
        on: date,
        declined: frozenset[str],
        region: RegionConfig,
    ) -> Recommendation: ...


def recommend(
    router: Router,
    facts: RoutingFacts,
    catalogue: list[ProgrammeInfo],
    on: date,
    declined: frozenset[str],
    region: RegionConfig,
) -> Recommendation:
    """The router's recommendation, stamped with the region's policy version it was made under."""
    result = router.recommend(facts, catalogue, on, declined, region)
    result.policy_version = region.policy_version
    return result


def load_router(name: str) -> Router:
    """The router registered under `name` in the entry-point group `aanmeldpunt.routers`."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            router: Router = ep.load()()
            return router
    known = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    raise LookupError(f"no router {name!r} registered; known: {known}")
