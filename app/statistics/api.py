"""`GET /statistics` (figures with small-cell suppression) and `GET /statistics/export` (the
pseudonymised research export), both confined to the caller's region."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.auth.deps import require
from app.auth.principal import Principal
from app.db import Db
from app.http.openapi_docs import problems
from app.http.problems import Problem, invalid
from app.regions.config import load_region
from app.statistics import export, queries
from app.statistics.figures import compute
from app.statistics.schemas import Statistics

router = APIRouter(tags=["Statistieken"])
StatisticsReader = Annotated[Principal, Depends(require("statistics:read", "intakes:read"))]
ResearchExporter = Annotated[Principal, Depends(require("research:export"))]
MAX_DAYS = 10 * 366
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)

From = Annotated[date, Query(alias="from", description="First local date of receipt (inclusive).")]
To = Annotated[date, Query(description="Last local date of receipt (inclusive).")]


def check_period(start: date, end: date) -> None:
    """Both dates in 2000–2999, `to` not before `from`, at most ten years: 400 listing each problem."""
    found = [
        {"name": name, "reason": "A date from 2000-01-01 to 2999-12-31."}
        for name, day in (("from", start), ("to", end))
        if not EARLIEST <= day <= LATEST
    ]
    if not found and end < start:
        found.append({"name": "to", "reason": "On or after 'from'."})
    if not found and (end - start).days > MAX_DAYS:
        found.append({"name": "to", "reason": "At most ten years per request."})
    if found:
        raise invalid(found)


def suppression_k(region: str) -> int:
    try:
        return load_region(region).suppression_k
    except LookupError:
        return 5


async def build(db: AsyncSession, region: str, start: date, end: date) -> Statistics:
    """The figures of one region and period (also used by `aanmeldpunt report`)."""
    rows = [queries.fact_row(f) for f in await queries.facts_in_period(db, region, start, end)]
    figures = compute(rows, start, end, suppression_k(region), await queries.programme_codes(db, region), clock.now())
    return Statistics.model_validate({**figures, "region": region})


@router.get(
    "/statistics",
    response_model=Statistics,
    responses=problems(400, 401, 403, 503),
    summary="Figures of the caller's region for a period, small cells suppressed",
    description=(
        "Counted by date of receipt; intakes whose personal data is erased are included from their "
        "anonymous remainder, counted by the ISO week of receipt (a week belongs to the period that "
        "holds its Thursday). Counts from 1 to k − 1 are null with `suppressed: true`, and so is any "
        "count that would let a reader work one out from totals and siblings."
    ),
)
async def get_statistics(principal: StatisticsReader, db: Db, from_: From, to: To) -> Statistics:
    check_period(from_, to)
    return await build(db, principal.region, from_, to)


@router.get(
    "/statistics/export",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": export.DESCRIPTION},
        **problems(400, 401, 403, 503),
    },
    summary="Pseudonymised research export (CSV) of intakes with research consent",
)
async def export_research(request: Request, principal: ResearchExporter, db: Db, from_: From, to: To) -> Response:
    check_period(from_, to)
    key = request.app.state.settings.research_pseudonym_key
    if key is None:
        raise Problem(
            503,
            "Service Unavailable",
            "The research export is not configured (RESEARCH_PSEUDONYM_KEY).",
            "not-configured",
        )
    rows = await export.consented(db, principal.region, from_, to)
    await audit.record(db, principal, "export", [(row.intake_id, "research") for row in rows])
    body = export.to_csv(rows, key.get_secret_value().encode())
    filename = f"aanmeldpunt-{principal.region}-{from_}-{to}.csv"
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
