"""Reading the coded facts of a region and period (the only place statistics touch the database)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.routing.models import Programme
from app.statistics.figures import FactRow
from app.statistics.models import IntakeFacts

# The date an intake is counted on: exact while it exists, its ISO week's Thursday once erased.
COUNTED_ON = func.coalesce(IntakeFacts.received_on, IntakeFacts.received_week)


def in_period(region: str, start: date, end: date) -> list[ColumnElement[bool]]:
    return [
        IntakeFacts.region == region,
        # received_week is within 3 days of received_on: lets the index narrow the scan.
        IntakeFacts.received_week.between(start - timedelta(days=3), end + timedelta(days=3)),
        COUNTED_ON.between(start, end),
    ]


def fact_row(facts: IntakeFacts) -> FactRow:
    return FactRow(
        counted_on=facts.received_on or facts.received_week,
        source=facts.source,
        referrer_role=facts.referrer_role,
        age_years=facts.age_years,
        pregnant=facts.pregnant,
        weeks_pregnant=facts.weeks_pregnant,
        concerns_at_registration=tuple(facts.concerns_at_registration),
        concerns=tuple(c["code"] for c in facts.concerns),
        vulnerability=facts.vulnerability,
        contacted=facts.contacted,
        assessed=facts.assessed,
        assessed_at_home=facts.assessed_at_home,
        programme_recommended=facts.programme_recommended,
        programmes_decided=tuple(facts.programmes_decided),
        programmes_offered=tuple(facts.programmes_offered),
        programmes_accepted=tuple(facts.programmes_accepted),
        programmes_declined=tuple(facts.programmes_declined),
        programmes_started=tuple(facts.programmes_started),
        phases=dict(facts.phases),
        close_reason=facts.close_reason,
    )


async def facts_in_period(db: AsyncSession, region: str, start: date, end: date) -> list[IntakeFacts]:
    rows = await db.scalars(select(IntakeFacts).where(*in_period(region, start, end)).order_by(IntakeFacts.intake_id))
    return list(rows.all())


async def programme_codes(db: AsyncSession, region: str) -> list[str]:
    rows = await db.scalars(select(Programme.code).where(Programme.region == region).order_by(Programme.code))
    return list(rows.all())
