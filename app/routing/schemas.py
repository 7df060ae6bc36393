"""Response shapes of a routing recommendation, shared by the routing API and the intake view."""

from __future__ import annotations

from app.http.schemas import OutModel


class ProgrammeReasons(OutModel):
    programme: str
    reasons: list[str]


class RecommendationOut(OutModel):
    programme: str | None
    router: str
    rules_version: str
    vulnerability: str
    reasons: list[str]
    alternatives: list[ProgrammeReasons]
    excluded: list[ProgrammeReasons]
    advice: list[str]
