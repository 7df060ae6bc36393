"""The regions this deployment serves (public), and their policy as versioned data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import AwareDatetime, Field, field_validator

from app import clock
from app.auth.deps import Admin, require
from app.auth.principal import Principal
from app.db import Db
from app.http.openapi_docs import ACTION, READ, problems
from app.http.problems import invalid, not_found
from app.http.schemas import ApiModel, OutModel
from app.regions import policies
from app.regions.config import RegionPolicy
from app.regions.models import RegionPolicyVersion
from app.regions.tenancy import Tenancy, policy_problems, tenancy

router = APIRouter(tags=["Regio's"])
RegionCode = Annotated[str, Path(alias="code", max_length=64, pattern=r"^[a-z0-9-]+$")]
StaffOrAdmin = Annotated[Principal, Depends(require("intakes:read", "admin"))]


class RegionOut(OutModel):
    code: str
    name: str
    municipalities: list[str]


class RegionList(OutModel):
    items: list[RegionOut]


class PolicyVersionOut(OutModel):
    version: int
    effective_from: datetime
    created_at: datetime
    created_by: str
    policy: RegionPolicy


class PolicyVersionList(OutModel):
    items: list[PolicyVersionOut] = Field(description="Newest first.")


class PolicyIn(ApiModel):
    effective_from: AwareDatetime | None = Field(
        default=None, description="When the version takes effect (default: now); not in the past."
    )
    policy: RegionPolicy = Field(
        description="The whole policy (the `policy` block of the region file, camelCase): municipalities, "
        "residence, deadlines, closureDays, retentionDays, routing. Validated as completely as the file."
    )

    @field_validator("effective_from")
    @classmethod
    def _not_past(cls, value: datetime | None) -> datetime | None:
        if value is not None and value < clock.now():
            raise ValueError("Not in the past: a version changes what comes, not what was.")
        return value


def _own_region(principal: Principal, code: str, regions: Tenancy) -> None:
    """Only the caller's own region; another (or an unknown one) is 404."""
    if code != principal.region or not regions.knows(code):
        raise not_found("region")


def _view(row: RegionPolicyVersion) -> PolicyVersionOut:
    return PolicyVersionOut(
        version=row.version,
        effective_from=row.effective_from,
        created_at=row.created_at,
        created_by=row.created_by,
        policy=RegionPolicy.model_validate(row.policy),
    )


@router.get(
    "/regions",
    response_model=RegionList,
    responses=problems(503),
    summary="The regions this deployment serves",
    openapi_extra={"security": []},
)
async def list_regions(request: Request) -> RegionList:
    regions = tenancy(request)
    return RegionList(
        items=[
            RegionOut(code=code, name=config.name, municipalities=list(config.municipalities))
            for code in regions.codes
            for config in [regions.policy(code)]
        ]
    )


@router.get(
    "/regions/{code}/policy",
    response_model=PolicyVersionOut,
    responses=READ,
    summary="The region's policy version in force now (staff, admin)",
)
async def get_policy(request: Request, code: RegionCode, principal: StaffOrAdmin, db: Db) -> PolicyVersionOut:
    regions = tenancy(request)
    _own_region(principal, code, regions)
    in_force = regions.policy(code).policy_version
    row = next((r for r in await policies.versions(db, code) if r.version == in_force), None)
    if row is None:
        raise not_found("region")
    return _view(row)


@router.get(
    "/regions/{code}/policy/versions",
    response_model=PolicyVersionList,
    responses=READ,
    summary="Every version of the region's policy, newest first (staff, admin)",
)
async def list_policy_versions(
    request: Request, code: RegionCode, principal: StaffOrAdmin, db: Db
) -> PolicyVersionList:
    _own_region(principal, code, tenancy(request))
    return PolicyVersionList(items=[_view(r) for r in await policies.versions(db, code)])


@router.put(
    "/regions/{code}/policy",
    response_model=PolicyVersionOut,
    responses=ACTION,
    summary="Store a new version of the region's policy (admin); validated completely",
)
async def put_policy(request: Request, code: RegionCode, body: PolicyIn, principal: Admin, db: Db) -> PolicyVersionOut:
    regions = tenancy(request)
    _own_region(principal, code, regions)
    if found := policy_problems(body.policy, regions.file(code)):
        raise invalid(found)
    row = await policies.store(db, principal, regions, code, body.policy, body.effective_from or clock.now())
    return _view(row)
