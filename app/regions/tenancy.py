"""Regions as tenants: the one place that decides which region a caller acts in, and the
region-scoped queries every route uses for region-owned tables.

A caller's region is its organisation's region (the `region` claim our tokens carry was
read from the organisation when the token was issued; external tokens are resolved through
the organisation row). Nothing else chooses a region for a caller: a route asks
`caller_region(request, principal)` and filters with the helpers below."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiClient, Organisation
from app.auth.principal import Principal
from app.http.problems import Problem, invalid
from app.regions.config import RegionConfig, RegionPolicy, choose, policy_problems_against


class Tenancy:
    """The configured regions (REGIONS, in order) and the policy each has in force."""

    def __init__(self, regions: dict[str, RegionConfig]) -> None:
        self.files = dict(regions)
        self.codes = list(regions)
        self._versions: dict[str, tuple[tuple[datetime, RegionConfig], ...]] = {}
        self.loaded_at = float("-inf")  # time.monotonic() of the last read of the stored versions

    @property
    def first(self) -> str:
        return self.codes[0]

    def knows(self, code: str) -> bool:
        return code in self.files

    def file(self, code: str) -> RegionConfig:
        return self.files[code]

    def set_versions(self, code: str, versions: list[tuple[datetime, RegionConfig]]) -> None:
        """The stored policy versions of a region (effective_from, the region under it)."""
        self._versions[code] = tuple(sorted(versions, key=lambda v: v[1].policy_version))

    def policy(self, code: str, at: datetime | None = None) -> RegionConfig:
        """The region under the policy version in force at `at` (default: now)."""
        from app import clock

        return choose(self._versions.get(code, ()), at or clock.now()) or self.files[code]

    def region_problems(self, region: str | None, name: str = "region") -> list[dict[str, str]]:
        """What is wrong with a `region` an anonymous caller gave: required when several are configured."""
        if region is None and len(self.codes) > 1:
            return [{"name": name, "code": "region.required", "options": ", ".join(self.codes)}]
        if region is not None and region not in self.files:
            return [{"name": name, "code": "region.unknown", "options": ", ".join(self.codes)}]
        return []

    def region_param(self, region: str | None, name: str = "region") -> str:
        if found := self.region_problems(region, name):
            raise invalid(found)
        return region or self.codes[0]


def api_name(path: str) -> str:
    """'routing.rules.0.programme' -> 'policy.routing.rules[0].programme' (the API's field names)."""
    name = "policy"
    for part in path.split("."):
        name += f"[{part}]" if part.isdigit() else f".{part}"
    return name


def policy_problems(policy: RegionPolicy, region: RegionConfig) -> list[dict[str, str]]:
    """The checks a policy needs beyond its schema (its rules name programmes of the region)."""
    return [
        {"name": api_name(name), "reason": reason}
        for name, reason in policy_problems_against(policy, [p.code for p in region.programmes])
    ]


def draft_region(in_force: RegionConfig, draft: RegionPolicy | None) -> RegionConfig | None:
    """A draft policy (unsaved), validated as completely as a PUT: 400 listing every error."""
    if draft is None:
        return None
    if found := policy_problems(draft, in_force):
        raise invalid(found)
    return in_force.with_policy(draft, 0)


def tenancy(request: Request) -> Tenancy:
    found: Tenancy = request.app.state.tenancy
    return found


def caller_region(request: Request, principal: Principal) -> RegionConfig:
    """The caller's region under the policy in force now."""
    return tenancy(request).policy(principal.region)


@dataclass(frozen=True)
class Scope:
    """Queries of region-owned tables, confined to one region."""

    region: str

    def organisations(self) -> Select[Organisation]:
        return select(Organisation).where(Organisation.region == self.region)

    def organisation_ids(self) -> Select[uuid.UUID]:
        return select(Organisation.id).where(Organisation.region == self.region)

    def clients(self) -> Select[ApiClient, str]:
        return (
            select(ApiClient, Organisation.code)
            .join(Organisation, Organisation.id == ApiClient.organisation_id)
            .where(Organisation.region == self.region)
        )

    async def organisation(self, db: AsyncSession, code: str) -> Organisation:
        """The organisation with this code in this region; 404 for unknown and foreign alike."""
        org = await db.scalar(self.organisations().where(Organisation.code == code))
        if org is None:
            raise Problem(404, "Not Found", "No organisation with this code.", "not-found")
        return org


def scope(principal: Principal) -> Scope:
    return Scope(principal.region)
