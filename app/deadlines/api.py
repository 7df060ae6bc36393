"""Deadline simulator and compliance report (staff)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, Field
from sqlalchemy import or_, select

from app import clock
from app.auth.deps import Staff
from app.db import Db
from app.deadlines.models import Deadline
from app.deadlines.policy import DeadlinePhase, Facts, compute, situations
from app.deadlines.report import Row, summarise
from app.deadlines.service import calendar_for
from app.http.openapi_docs import LIST, problems
from app.http.problems import invalid
from app.http.schemas import ApiModel, OutModel
from app.intakes.models import Intake
from app.intakes.schemas import Pregnancy
from app.intakes.validation import pregnancy_problems
from app.regions.config import RegionConfig, RegionPolicy, Situation
from app.regions.tenancy import caller_region, draft_region

router = APIRouter(tags=["Termijnen"])


class DeadlineSimulationIn(ApiModel):
    received_at: AwareDatetime
    pregnancy: Pregnancy
    safety_concern: bool = False
    policy: RegionPolicy | None = Field(
        default=None,
        description="A draft policy (as in PUT /regions/{code}/policy), unsaved: the answer is computed with it, "
        "and `inForce` with the version in force at `receivedAt`.",
    )


class SimulatedDeadline(OutModel):
    phase: DeadlinePhase
    due_at: datetime
    approaching_at: datetime
    working_days: int


class DeadlineSimulation(OutModel):
    situations: list[Situation] = Field(
        description="The policy rows that matched; the strictest number per phase wins."
    )
    deadlines: list[SimulatedDeadline]
    policy_version: int | None = Field(description="The version used; null for a draft.")
    in_force: DeadlineSimulation | None = Field(
        default=None, description="With a draft: the same under the version in force, to compare."
    )


class PhaseFigures(OutModel):
    phase: DeadlinePhase
    due: int
    met_on_time: int
    met_late: int
    open: int
    overdue: int
    median_working_days_to_meet: float | None
    p90_working_days_to_meet: float | None


class DeadlineReport(OutModel):
    from_: date = Field(alias="from")
    to: date
    phases: list[PhaseFigures]


@router.post(
    "/deadlines/simulate",
    response_model=DeadlineSimulation,
    responses=problems(400, 401, 403, 413, 415, 503),
    summary="The deadlines the region's policy gives (nothing stored)",
)
async def simulate(request: Request, body: DeadlineSimulationIn, principal: Staff) -> DeadlineSimulation:
    received_on = body.received_at.astimezone(clock.AMSTERDAM).date()
    found = pregnancy_problems(body.pregnancy, received_on)
    if found:
        raise invalid(found)
    in_force = caller_region(request, principal).at(body.received_at)
    draft = draft_region(in_force, body.policy)
    facts = Facts(body.pregnancy.pregnant, body.pregnancy.due_date, body.safety_concern)

    def under(region: RegionConfig, in_force: DeadlineSimulation | None = None) -> DeadlineSimulation:
        moments = compute(body.received_at, facts, region.deadlines, calendar_for(region))
        return DeadlineSimulation(
            situations=situations(facts, received_on),
            deadlines=[
                SimulatedDeadline(
                    phase=m.phase, due_at=m.due_at, approaching_at=m.approaching_at, working_days=m.working_days
                )
                for m in moments
            ],
            policy_version=None if region is draft else region.policy_version,
            in_force=in_force,
        )

    return under(draft, in_force=under(in_force)) if draft else under(in_force)


# Dates a report can cover: wide enough for any real period, narrow enough that the day
# after `to` and its instant in UTC exist (9999-12-31 + 1 day does not).
REPORT_FIRST_DATE = date(2000, 1, 1)
REPORT_LAST_DATE = date(2199, 12, 31)


@router.get(
    "/deadlines/report",
    response_model=DeadlineReport,
    responses=LIST,
    summary="Compliance per phase for deadlines due in a period (local dates, inclusive)",
)
async def report(
    request: Request,
    principal: Staff,
    db: Db,
    from_: Annotated[
        date,
        Query(alias="from", ge=REPORT_FIRST_DATE, le=REPORT_LAST_DATE, description="First local date (inclusive)."),
    ],
    to: Annotated[date, Query(ge=REPORT_FIRST_DATE, le=REPORT_LAST_DATE, description="Last local date (inclusive).")],
) -> DeadlineReport:
    if to < from_:
        raise invalid([{"name": "to", "reason": "On or after 'from'."}])
    if (to - from_).days > 3 * 366:
        raise invalid([{"name": "to", "reason": "At most three years per report."}])
    start = datetime.combine(from_, time.min, tzinfo=clock.AMSTERDAM)
    end = datetime.combine(to + timedelta(days=1), time.min, tzinfo=clock.AMSTERDAM)
    rows = await db.execute(
        select(Deadline.phase, Deadline.due_at, Deadline.met_at, Intake.received_at, Deadline.cancelled_at)
        .join(Intake, Intake.id == Deadline.intake_id)
        .where(
            Intake.region == principal.region,
            # A deadline cancelled by closing before it was due no longer counts; one closed
            # after it was due stays in the figures as overdue.
            or_(Deadline.cancelled_at.is_(None), Deadline.cancelled_at > Deadline.due_at),
            Deadline.due_at >= start,
            Deadline.due_at < end,
        )
    )
    local = clock.AMSTERDAM
    figures = summarise(
        (
            Row(
                phase,
                received.astimezone(local).date(),
                due,
                met,
                met.astimezone(local).date() if met else None,
                cancelled,
            )
            for phase, due, met, received, cancelled in rows.all()
        ),
        clock.now(),
        calendar_for(caller_region(request, principal)),
    )
    return DeadlineReport(
        from_=from_, to=to, phases=[PhaseFigures.model_validate(f, from_attributes=True) for f in figures]
    )
