"""The regions this deployment serves (public), and their policy versions."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.http.openapi_docs import problems
from app.http.schemas import OutModel
from app.regions.tenancy import tenancy

router = APIRouter(tags=["Regio's"])


class RegionOut(OutModel):
    code: str
    name: str
    municipalities: list[str]


class RegionList(OutModel):
    items: list[RegionOut]


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
