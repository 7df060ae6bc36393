"""Response models of the statistics (every figure a cell; groups keyed by code)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from app.http.schemas import OutModel


class FigureCell(OutModel):
    count: int | None = Field(description="Null when suppressed (1 to k − 1, or needed to protect such a cell).")
    share: float | None = Field(
        description="Share of the group's total (0–1); null when this cell or that total is suppressed, or it has none."
    )
    suppressed: bool


class RegistrationFigures(OutModel):
    total: FigureCell
    by_source: dict[str, FigureCell] = Field(description="`referral`, `self_registration`.")
    by_referrer_role: dict[str, FigureCell] = Field(description="Referrals by referrer role; shares of referrals.")
    by_month: dict[str, FigureCell] = Field(description="`YYYY-MM` for every month of the period.")


class PregnancyFigures(OutModel):
    pregnant: FigureCell
    not_pregnant: FigureCell
    weeks_at_registration: dict[str, FigureCell] = Field(
        description="Completed weeks pregnant at registration: `<12`, `12-19`, `20-27`, `>=28`; shares of pregnant."
    )
    median_weeks_at_registration: float | None = Field(description="Nearest-rank median; null when suppressed.")


class AgeFigures(OutModel):
    at_registration: dict[str, FigureCell] = Field(description="AgeFigures in years at registration: `<20` … `>=35`.")


class ConcernFigures(OutModel):
    at_registration: FigureCell = Field(description="Intakes with this concern at registration; shares of all.")
    after_assessment: FigureCell = Field(
        description="Intakes assessed at home with this concern known after it; share of those assessed at home."
    )


class IntakeFigures(OutModel):
    contacted: FigureCell
    assessed: FigureCell
    assessed_at_home: FigureCell
    unreachable: FigureCell
    declined_by_client: FigureCell


class RoutingFigures(OutModel):
    recommended: FigureCell
    decided: FigureCell
    offered: FigureCell
    accepted: FigureCell
    declined: FigureCell
    support_started: FigureCell


class LeadTimeFigures(OutModel):
    due: FigureCell = Field(description="Deadlines of this phase that counted: met, or not met once due.")
    met_on_time: FigureCell
    late: FigureCell
    share_on_time: float | None
    median_working_days: float | None = Field(description="From receipt to meeting it (nearest rank).")
    p90_working_days: float | None


class Statistics(OutModel):
    region: str
    from_: date = Field(alias="from")
    to: date
    k: int = Field(description="Counts from 1 to k − 1 are suppressed (the region's setting).")
    registrations: RegistrationFigures
    pregnancy: PregnancyFigures
    age: AgeFigures
    concerns: dict[str, ConcernFigures]
    vulnerability: dict[str, FigureCell]
    intake: IntakeFigures
    routing: dict[str, RoutingFigures] = Field(description="Per programme; shares of registrations.")
    lead_times: dict[str, LeadTimeFigures]
    outcomes: dict[str, FigureCell] = Field(description="Close reasons, and `open` for intakes not closed.")
