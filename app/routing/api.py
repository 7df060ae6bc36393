"""The social map (public), its admin changes, and the routing simulator (staff)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field
from pydantic.alias_generators import to_camel
from sqlalchemy import select

from app import clock
from app.audit import service as audit
from app.audit.models import AdminAction
from app.auth.deps import Admin, Staff
from app.db import Db
from app.http.openapi_docs import ACTION, problems
from app.http.problems import invalid, not_found
from app.http.schemas import ApiModel, Name, OutModel
from app.intakes.models import Intake
from app.intakes.schemas import ReferralIn
from app.intakes.service import routing_facts
from app.intakes.validation import referral_problems
from app.regions.config import RegionPolicy
from app.regions.tenancy import caller_region, draft_region, tenancy
from app.routing.catalogue import catalogue_for
from app.routing.models import Programme
from app.routing.router import recommend
from app.routing.schemas import RecommendationOut
from app.vocab import ConcernSource

router = APIRouter(tags=["Programma's en routering"])
ProgrammeCode = Annotated[str, Path(alias="code", max_length=64, pattern=r"^[a-z0-9-]+$")]


class ProgrammeOut(OutModel):
    code: str
    name: str
    organisation: str
    description: str
    eligibility: str = Field(description="Readable summary of who the programme is for.")
    contact: str
    accepting_clients: bool


class ProgrammeList(OutModel):
    items: list[ProgrammeOut]


class ProgrammeChange(ApiModel):
    name: Name | None = None
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    eligibility: str | None = Field(default=None, min_length=1, max_length=4000)
    contact: str | None = Field(default=None, min_length=1, max_length=1000)
    accepting_clients: bool | None = None


class RoutingSimulationIn(ApiModel):
    intake: ReferralIn
    at: date | None = Field(default=None, description="The routing date (default: today).")
    policy: RegionPolicy | None = Field(
        default=None,
        description="A draft policy (as in PUT /regions/{code}/policy), unsaved: the answer is computed with it, "
        "and `inForce` with the version in force now.",
    )


class RoutingSimulationOut(RecommendationOut):
    in_force: RecommendationOut | None = Field(
        default=None, description="With a draft: the recommendation under the version in force, to compare."
    )


def _view(p: Programme) -> ProgrammeOut:
    return ProgrammeOut(
        code=p.code,
        name=p.name,
        organisation=p.organisation_code,
        description=p.description,
        eligibility=p.eligibility,
        contact=p.contact,
        accepting_clients=p.accepting_clients,
    )


@router.get(
    "/programmes",
    response_model=ProgrammeList,
    responses=problems(400, 503),
    summary="The social map: programmes of a region",
    openapi_extra={"security": []},
)
async def list_programmes(
    request: Request,
    db: Db,
    region: Annotated[
        str | None,
        Query(max_length=64, description="Region code (GET /regions); required when several are configured."),
    ] = None,
) -> ProgrammeList:
    code = tenancy(request).region_param(region)
    rows = await db.scalars(select(Programme).where(Programme.region == code).order_by(Programme.code))
    return ProgrammeList(items=[_view(p) for p in rows.all()])


@router.patch("/programmes/{code}", response_model=ProgrammeOut, responses=ACTION, summary="Change a programme (admin)")
async def change_programme(
    request: Request, code: ProgrammeCode, body: ProgrammeChange, principal: Admin, db: Db
) -> ProgrammeOut:
    programme = await db.scalar(
        select(Programme).where(Programme.region == principal.region, Programme.code == code).with_for_update()
    )
    if programme is None:
        raise not_found("programme")
    changes = body.model_dump(exclude_unset=True, by_alias=False)
    if any(value is None for value in changes.values()):
        raise invalid([{"name": to_camel(k), "reason": "May not be null."} for k, v in changes.items() if v is None])
    before = {field: getattr(programme, field) for field in changes}
    for field, value in changes.items():
        setattr(programme, field, value)
    programme.updated_at = clock.now()
    await db.flush()
    await audit.record_admin_change(
        db,
        principal,
        AdminAction.PROGRAMME_CHANGED,
        f"programme {code}",
        audit.field_changes({to_camel(k): v for k, v in before.items()}, {to_camel(k): v for k, v in changes.items()}),
    )
    return _view(programme)


@router.post(
    "/routing/simulate",
    response_model=RoutingSimulationOut,
    responses=problems(400, 401, 403, 413, 415, 503),
    summary="What the router would recommend (nothing stored)",
)
async def simulate(request: Request, body: RoutingSimulationIn, principal: Staff, db: Db) -> RoutingSimulationOut:
    now = clock.now()
    today = now.astimezone(clock.AMSTERDAM).date()
    found = [{**p, "name": f"intake.{p['name']}"} for p in referral_problems(body.intake, now, today)]
    if found:
        raise invalid(found)
    draft = body.intake
    # A transient Intake (never added to the session) gives the router the same facts as a real one.
    transient = Intake(
        client=draft.client.model_dump(mode="json", by_alias=True, exclude_none=True),
        pregnancy=draft.pregnancy.model_dump(mode="json", by_alias=True, exclude_none=True),
        children=[c.model_dump(mode="json", by_alias=True) for c in draft.children],
        concerns=[{"code": str(c), "source": ConcernSource.REFERRAL} for c in dict.fromkeys(draft.concerns)],
        safety_concern=draft.safety_concern,
    )
    catalogue = await catalogue_for(db, principal.region)
    in_force = caller_region(request, principal)
    draft_policy = draft_region(in_force, body.policy)
    facts = routing_facts(transient)
    result = RoutingSimulationOut.model_validate(
        recommend(
            request.app.state.router, facts, catalogue, body.at or today, frozenset(), draft_policy or in_force
        ).as_json()
    )
    if draft_policy is None:
        return result
    in_force_result = recommend(request.app.state.router, facts, catalogue, body.at or today, frozenset(), in_force)
    return result.model_copy(
        update={"policy_version": None, "in_force": RecommendationOut.model_validate(in_force_result.as_json())}
    )
