"""An example plugin router, registered under the entry-point group `aanmeldpunt.routers` by
the dist-info folder next to it (tests/support/plugins is on pytest's pythonpath). A real plugin is
a package whose pyproject declares:

    [project.entry-points."aanmeldpunt.routers"]
    first-accepting = "my_package.module:FirstAcceptingRouter"
"""

from __future__ import annotations

from datetime import date

from app.regions.config import RegionConfig
from app.routing.router import ProgrammeInfo, Recommendation, RoutingFacts
from app.routing.vulnerability import vulnerability


class FirstAcceptingRouter:
    """Recommends the first programme (by code) that accepts clients and did not decline."""

    name = "first-accepting"

    def recommend(
        self,
        facts: RoutingFacts,
        catalogue: list[ProgrammeInfo],
        on: date,
        declined: frozenset[str],
        region: RegionConfig,
    ) -> Recommendation:
        del on, region
        open_ones = sorted(p.code for p in catalogue if p.accepting_clients and p.code not in declined)
        return Recommendation(
            programme=open_ones[0] if open_ones else None,
            router=self.name,
            rules_version="example-1",
            vulnerability=vulnerability(facts.concerns, facts.safety_concern),
            reasons=["first programme by code that accepts clients"],
            alternatives=[{"programme": code, "reasons": ["accepts clients"]} for code in open_ones[1:]],
        )
