"""A region's configuration: a YAML file validated with pydantic when the service starts."""

from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

REGIONS_DIR = Path(__file__).parent

Situation = Literal["safety_concern", "pregnant_28_weeks_or_more", "pregnant_under_28_weeks", "not_pregnant"]
Vulnerability = Literal["potentially_vulnerable", "vulnerable", "very_vulnerable"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadlineRow(Strict):
    situation: Situation
    response: int = Field(ge=0, le=100)
    intake: int = Field(ge=0, le=200)
    support_start: int = Field(ge=0, le=400)


class DeadlinePolicy(Strict):
    approaching_working_days: int = Field(default=1, ge=0, le=10)
    rows: tuple[DeadlineRow, ...]

    @model_validator(mode="after")
    def _all_situations(self) -> DeadlinePolicy:
        present = {row.situation for row in self.rows}
        missing = {"safety_concern", "pregnant_28_weeks_or_more", "pregnant_under_28_weeks", "not_pregnant"} - present
        if missing:
            raise ValueError(f"deadline rows missing for {sorted(missing)}")
        return self


class Residence(Strict):
    postcode_ranges: tuple[tuple[int, int], ...] = ()
    cities: tuple[str, ...] = ()


class Conditions(Strict):
    pregnant: bool | None = None
    lives_in_region: bool | None = None
    min_vulnerability: Vulnerability | None = None
    first_child: bool | None = None
    max_age: int | None = None
    max_weeks_pregnant: tuple[int, int] | None = None
    min_weeks_pregnant: int | None = None
    youngest_child_max_months: int | None = None
    youngest_child_max_years: int | None = None
    any_of: tuple[Conditions, ...] = ()


class Rule(Strict):
    programme: str
    when: Conditions = Conditions()
    checked_at_home: tuple[str, ...] = ()


class RoutingRules(Strict):
    version: str
    rules: tuple[Rule, ...] = Field(min_length=1)


class ProgrammeSeed(Strict):
    code: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    organisation: str
    organisation_kind: Literal["programme", "wijkteam"] = "programme"
    description: str
    eligibility: str
    contact: str


class RegionConfig(Strict):
    region: str
    name: str
    municipality: str
    retention_days: int = Field(default=730, ge=0)
    suppression_k: int = Field(default=5, ge=1, le=1000)  # statistics: counts 1..k-1 are suppressed
    closure_days: tuple[date, ...] = ()
    residence: Residence = Residence()
    deadlines: DeadlinePolicy
    programmes: tuple[ProgrammeSeed, ...] = ()
    routing: RoutingRules
    content_hash: str = ""

    @model_validator(mode="after")
    def _rules_name_programmes(self) -> RegionConfig:
        codes = {p.code for p in self.programmes}
        unknown = [r.programme for r in self.routing.rules if codes and r.programme not in codes]
        if unknown:
            raise ValueError(f"routing rules name unknown programmes: {unknown}")
        return self


def parse_region(raw: dict[str, Any], content: bytes) -> RegionConfig:
    digest = hashlib.sha256(content).hexdigest()[:12]
    return RegionConfig.model_validate({**raw, "content_hash": digest})


@lru_cache
def load_region(region: str, directory: str | None = None) -> RegionConfig:
    folder = Path(directory) if directory else REGIONS_DIR
    path = folder / f"{region}.yaml"
    if not path.is_file():
        raise LookupError(f"no configuration for region {region!r} in {folder}")
    content = path.read_bytes()
    return parse_region(yaml.safe_load(content), content)
