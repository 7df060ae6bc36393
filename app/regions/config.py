"""A region's configuration: a YAML file validated with pydantic when the service starts.

A file has the region's identity (`region`, `name`), its catalogue of programmes, and its
`policy`: municipalities and residence, the deadline table, closure days, retention and the
routing rules. The `policy` block of the file is version 1 of the region's policy; later
versions are stored in the database (app/regions/policies.py). Pure: no I/O but reading the
file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from app.vocab import DOMAIN_OF, OrganisationKind, VulnerabilityLevel

REGIONS_DIR = Path(__file__).parent


class Situation(StrEnum):
    """A row of a region's deadline policy: which situation its working days apply to."""

    SAFETY_CONCERN = "safety_concern"
    PREGNANT_28_WEEKS_OR_MORE = "pregnant_28_weeks_or_more"
    PREGNANT_UNDER_28_WEEKS = "pregnant_under_28_weeks"
    NOT_PREGNANT = "not_pregnant"


SITUATIONS = tuple(Situation)


class Strict(BaseModel):
    """snake_case in the YAML file, camelCase in the API; unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        json_schema_mode_override="validation",  # one schema for requests and answers (generated clients)
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # A policy is stored as JSON in PostgreSQL, which cannot hold NUL: refuse it, named.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters are not allowed.")
        if isinstance(value, list | tuple) and any(isinstance(v, str) and "\x00" in v for v in value):
            raise ValueError("NUL characters are not allowed.")
        return value


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
        present = [row.situation for row in self.rows]
        missing = set(SITUATIONS) - set(present)
        if missing:
            raise ValueError(f"deadline rows missing for {sorted(missing)}")
        twice = sorted({s for s in present if present.count(s) > 1})
        if twice:
            raise ValueError(f"more than one deadline row for {twice}")
        return self


class Residence(Strict):
    source: str = Field(default="", max_length=1000, description="The public source of the postcode ranges.")
    postcode_ranges: tuple[tuple[int, int], ...] = ()
    cities: tuple[str, ...] = ()

    @field_validator("postcode_ranges")
    @classmethod
    def _ranges(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        bad = [r for r in value if not (1000 <= r[0] <= r[1] <= 9999)]
        if bad:
            raise ValueError(f"each range is [low, high] with 1000 ≤ low ≤ high ≤ 9999; not {[list(r) for r in bad]}")
        return value

    @model_validator(mode="after")
    def _sourced(self) -> Residence:
        if self.postcode_ranges and not self.source.strip():
            raise ValueError("postcode ranges need their public source in `source`")
        if not self.postcode_ranges and not self.cities:
            raise ValueError("give postcode ranges or city names")
        return self


class Conditions(Strict):
    pregnant: bool | None = None
    lives_in_region: bool | None = None
    min_vulnerability: VulnerabilityLevel | None = None
    first_child: bool | None = None
    max_age: int | None = Field(default=None, ge=10, le=60)
    max_weeks_pregnant: tuple[int, int] | None = None
    min_weeks_pregnant: int | None = Field(default=None, ge=0, le=45)
    youngest_child_max_months: int | None = Field(default=None, ge=0, le=240)
    youngest_child_max_years: int | None = Field(default=None, ge=0, le=20)
    any_concern: tuple[str, ...] = ()
    any_of: tuple[Conditions, ...] = ()

    @field_validator("any_concern")
    @classmethod
    def _known_concerns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in DOMAIN_OF]
        if unknown:
            raise ValueError(f"unknown concern codes {unknown}")
        return value

    @field_validator("max_weeks_pregnant")
    @classmethod
    def _weeks(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not (0 <= value[0] <= 45 and 0 <= value[1] <= 6):
            raise ValueError("[weeks 0–45, days 0–6]")
        return value


class Rule(Strict):
    programme: str = Field(pattern=r"^[a-z0-9-]+$")
    when: Conditions = Conditions()
    checked_at_home: tuple[str, ...] = ()
    reason: str = Field(default="", max_length=500, description="A sentence said when this rule is chosen.")
    additional: bool = Field(default=False, description="Recommended next to the primary programme, not instead of it.")


class RoutingRules(Strict):
    version: str = Field(min_length=1, max_length=64)
    rules: tuple[Rule, ...] = Field(min_length=1)


class RegionPolicy(Strict):
    """What a region decides and may change over time: a version of this is stored per change."""

    municipalities: tuple[str, ...] = Field(min_length=1)
    retention_days: int = Field(default=730, ge=0, le=36_500)
    closure_days: tuple[date, ...] = ()
    residence: Residence
    deadlines: DeadlinePolicy
    routing: RoutingRules


class ProgrammeSeed(Strict):
    code: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    organisation: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    organisation_kind: Literal[OrganisationKind.PROGRAMME, OrganisationKind.WIJKTEAM] = OrganisationKind.PROGRAMME
    description: str
    eligibility: str
    contact: str


class RegionConfig(Strict):
    region: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=200)
    programmes: tuple[ProgrammeSeed, ...] = Field(min_length=1)
    policy: RegionPolicy
    suppression_k: int = Field(default=5, ge=1, le=1000)  # statistics: counts 1..k-1 are suppressed
    content_hash: str = ""
    policy_version: int = 1
    # (effective_from, the region under that version), oldest version first; set by the tenancy.
    _history: tuple[tuple[datetime, RegionConfig], ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _consistent(self) -> RegionConfig:
        errors = policy_problems_against(self.policy, [p.code for p in self.programmes])
        codes = [p.code for p in self.programmes]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            errors.append(("programmes", f"programme codes appear twice: {twice}"))
        if errors:
            raise ValueError("; ".join(f"{name}: {reason}" for name, reason in errors))
        return self

    # The policy in force, as the rest of the code reads it.
    @property
    def municipalities(self) -> tuple[str, ...]:
        return self.policy.municipalities

    @property
    def municipality(self) -> str:
        """The municipalities in a sentence: "Utrecht or Amersfoort"."""
        names = list(self.policy.municipalities)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    @property
    def retention_days(self) -> int:
        return self.policy.retention_days

    @property
    def closure_days(self) -> tuple[date, ...]:
        return self.policy.closure_days

    @property
    def residence(self) -> Residence:
        return self.policy.residence

    @property
    def deadlines(self) -> DeadlinePolicy:
        return self.policy.deadlines

    @property
    def routing(self) -> RoutingRules:
        return self.policy.routing

    def at(self, moment: datetime) -> RegionConfig:
        """The region under the version in force at `moment`: the newest version whose
        effectiveFrom has passed by then (a deadline is computed with the version in force at
        the intake's receipt)."""
        return choose(self._history, moment) or self

    def with_history(self, history: tuple[tuple[datetime, RegionConfig], ...]) -> RegionConfig:
        copy = self.model_copy()
        copy._history = history
        return copy

    def with_policy(self, policy: RegionPolicy, version: int) -> RegionConfig:
        """This region under another version of its policy."""
        return self.model_copy(
            update={"policy": policy, "policy_version": version, "content_hash": policy_hash(policy)}
        )


def choose(history: Sequence[tuple[datetime, RegionConfig]], moment: datetime) -> RegionConfig | None:
    """Of the versions in force at `moment`, the newest (highest number)."""
    in_force = [config for effective_from, config in history if effective_from <= moment]
    if not in_force:
        return None
    newest = max(in_force, key=lambda c: c.policy_version)
    return newest.with_history(tuple(history))


def policy_problems_against(policy: RegionPolicy, programme_codes: Sequence[str]) -> list[tuple[str, str]]:
    """Checks that need the region's catalogue: every rule names one of its programmes, and
    exactly the last primary rule may be the catch-all."""
    known = set(programme_codes)
    errors: list[tuple[str, str]] = []
    for index, rule in enumerate(policy.routing.rules):
        if rule.programme not in known:
            errors.append(
                (
                    f"routing.rules.{index}.programme",
                    f"no programme {rule.programme!r} in this region ({sorted(known)})",
                )
            )
    if not any(not r.additional for r in policy.routing.rules):
        errors.append(("routing.rules", "at least one primary (not additional) rule"))
    return errors


def policy_hash(policy: RegionPolicy) -> str:
    text = json.dumps(policy.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a region file or a policy: the field path and why."""

    name: str
    reason: str


def validation_problems(exc: ValidationError, prefix: str = "") -> list[Problem]:
    out = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        out.append(Problem(f"{prefix}{path}" if path else prefix.rstrip(".") or "(file)", message))
    return out


def check_policy(raw: Any, programme_codes: Sequence[str]) -> tuple[RegionPolicy | None, list[Problem]]:
    """Validate a policy document completely: every error at once, with its field path."""
    try:
        policy = RegionPolicy.model_validate(raw)
    except ValidationError as exc:
        return None, validation_problems(exc)
    problems = [Problem(name, reason) for name, reason in policy_problems_against(policy, programme_codes)]
    return (None, problems) if problems else (policy, [])


class RegionFileError(ValueError):
    """A region file that cannot be used: names the file and every bad field."""

    def __init__(self, path: Path, problems: Iterable[Problem]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  {p.name}: {p.reason}" for p in self.problems)
        super().__init__(f"region file {path} is invalid:\n{lines}")


def parse_region(raw: Any, path: Path) -> RegionConfig:
    if not isinstance(raw, dict):
        raise RegionFileError(path, [Problem("(file)", "a YAML mapping with region, name, programmes and policy")])
    try:
        config = RegionConfig.model_validate(raw)
    except ValidationError as exc:
        problems = validation_problems(exc)
        # The model-level check joins its findings; give each its own line.
        split = []
        for p in problems:
            if p.name == "(file)" and ": " in p.reason:
                split += [Problem(*part.split(": ", 1)) for part in p.reason.split("; ")]
            else:
                split.append(p)
        raise RegionFileError(path, split) from None
    if config.region != path.stem:
        raise RegionFileError(path, [Problem("region", f"{config.region!r} must match the file name {path.stem!r}")])
    return config.model_copy(update={"content_hash": policy_hash(config.policy)})


@lru_cache
def load_region(region: str, directory: str | None = None) -> RegionConfig:
    folder = Path(directory) if directory else REGIONS_DIR
    path = folder / f"{region}.yaml"
    if not path.is_file():
        raise LookupError(f"no region file for region {region!r}: {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_bytes())
    except yaml.YAMLError as exc:
        raise RegionFileError(path, [Problem("(file)", f"not valid YAML: {exc}")]) from None
    return parse_region(raw, path)


def load_regions(codes: Sequence[str], directory: str | None = None) -> dict[str, RegionConfig]:
    """Every configured region, validated, in the configured order. Organisations belong to
    exactly one region, so two regions may not name the same programme organisation."""
    if not codes:
        raise LookupError("REGIONS names no region")
    regions = {code: load_region(code, directory) for code in dict.fromkeys(codes)}
    owner: dict[str, str] = {}
    for code, config in regions.items():
        for index, programme in enumerate(config.programmes):
            other = owner.setdefault(programme.organisation, code)
            if other != code:
                folder = Path(directory) if directory else REGIONS_DIR
                raise RegionFileError(
                    folder / f"{code}.yaml",
                    [
                        Problem(
                            f"programmes.{index}.organisation",
                            f"organisation {programme.organisation!r} already belongs to region {other!r}",
                        )
                    ],
                )
    return regions


def region_codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]
