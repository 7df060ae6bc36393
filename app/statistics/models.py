"""The coded facts statistics need, one row per intake, kept when its personal data is erased."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class IntakeFacts(Base):
    """Written at receipt and rewritten in the same transaction as every change of the intake.

    Holds no personal data: codes, counts, working days, and the date of receipt, which is
    exact (`received_on`) while the intake's personal data exists and only its ISO week
    (`received_week`, the Thursday of that week) after erasure."""

    __tablename__ = "intake_facts"

    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), primary_key=True)
    region: Mapped[str] = mapped_column(String(64))
    received_on: Mapped[date | None]
    received_week: Mapped[date]
    source: Mapped[str] = mapped_column(String(32))
    referrer_role: Mapped[str | None] = mapped_column(String(32))
    age_years: Mapped[int | None] = mapped_column(Integer)
    pregnant: Mapped[bool] = mapped_column(Boolean)
    weeks_pregnant: Mapped[int | None] = mapped_column(Integer)
    first_child: Mapped[bool | None] = mapped_column(Boolean)
    concerns_at_registration: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    concerns: Mapped[list[Any]]  # [{"code", "source"}]: every concern known now, with its source
    safety_concern: Mapped[bool] = mapped_column(Boolean)
    vulnerability_at_registration: Mapped[str] = mapped_column(String(32))
    vulnerability: Mapped[str] = mapped_column(String(32))
    contacted: Mapped[bool] = mapped_column(Boolean)
    contact_attempts: Mapped[int] = mapped_column(Integer)
    assessed: Mapped[bool] = mapped_column(Boolean)
    assessed_at_home: Mapped[bool] = mapped_column(Boolean)
    programme_recommended: Mapped[str | None] = mapped_column(String(64))
    programmes_decided: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    programmes_offered: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    programmes_accepted: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    programmes_declined: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    programmes_started: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    phases: Mapped[dict[str, Any]]  # phase -> PhaseOutcome (see facts.py)
    status: Mapped[str] = mapped_column(String(32))
    close_reason: Mapped[str | None] = mapped_column(String(32))
    research_consent: Mapped[bool] = mapped_column(Boolean)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_intake_facts_region_period", "region", "received_week"),)
