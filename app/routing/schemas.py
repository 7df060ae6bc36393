"""Response shapes of a routing recommendation, shared by the routing API and the intake view."""

from __future__ import annotations

from pydantic import Field

from app.http.schemas import OutModel
from app.vocab import VulnerabilityLevel


class ProgrammeReasons(OutModel):
    programme: str
    reasons: list[str]


class RecommendationOut(OutModel):
    programme: str | None
    router: str
    rules_version: str
    vulnerability: VulnerabilityLevel
    # Empty after erasure: the reasons name ages, weeks and dates (DOMAIN.md, Retention).
    reasons: list[str] = Field(default_factory=list)
    alternatives: list[ProgrammeReasons] = Field(default_factory=list)
    excluded: list[ProgrammeReasons] = Field(default_factory=list)
    advice: list[str] = Field(default_factory=list)
    additional: list[ProgrammeReasons] = Field(
        default_factory=list, description="Supports that fit next to the recommended programme, each with its reasons."
    )
    policy_version: int | None = Field(
        default=None, description="The region's policy version it was computed with; null for a draft."
    )
