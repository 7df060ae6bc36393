from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Intake(Base):
    """One registration of one woman. Personal data lives in `client`, `narrative`, `message`,
    `referrer`, the match keys and the notes of contacts/assessments; retention erases exactly those."""

    __tablename__ = "intakes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    region: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    referrer_organisation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    received_at: Mapped[datetime]
    client: Mapped[dict[str, Any] | None]
    pregnancy: Mapped[dict[str, Any]]
    children: Mapped[list[Any]]
    concerns: Mapped[list[Any]]
    safety_concern: Mapped[bool] = mapped_column(Boolean, default=False)
    narrative: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    contact_preference: Mapped[str | None] = mapped_column(String(16))
    referrer: Mapped[dict[str, Any] | None]
    legal_basis: Mapped[str] = mapped_column(String(16), default="consent")
    basis_justification: Mapped[str | None] = mapped_column(Text)
    vulnerability: Mapped[str] = mapped_column(String(32))
    next_deadline_at: Mapped[datetime | None]
    routing: Mapped[dict[str, Any] | None]
    decided_programme: Mapped[str | None] = mapped_column(String(64))
    excluded_programmes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    possible_duplicates: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    # Her earlier closed intakes (a return), and on those the later ones: links, erased with either.
    previous_intakes: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    later_intakes: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    # Personal data like `client` (staff only; never in webhooks or logs).
    partner: Mapped[dict[str, Any] | None]
    # The last reopening (aftercare): deadlines count from it, not from the receipt.
    reopened_at: Mapped[datetime | None]
    merged_into: Mapped[uuid.UUID | None]
    close_reason: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None]
    erase_after: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_client: Mapped[str | None] = mapped_column(String(64))
    # Match keys for possible duplicates (personal data: erased with the rest).
    bsn: Mapped[str | None] = mapped_column(String(9))
    birth_date: Mapped[date | None]
    family_name_key: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(6))
    phone: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        # The worklist: open intakes by urgency; also serves overdue / deadlineBefore.
        Index(
            "ix_intakes_open_urgency",
            "region",
            "next_deadline_at",
            "id",
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_intakes_region_received", "region", "received_at", "id"),
        Index("ix_intakes_bsn", "bsn", postgresql_where=text("closed_at IS NULL AND bsn IS NOT NULL")),
        Index(
            "ix_intakes_match",
            "birth_date",
            "family_name_key",
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_intakes_retention", "erase_after", postgresql_where=text("erased_at IS NULL")),
        # A woman who returns: her closed, not erased intakes, by the same keys.
        Index(
            "ix_intakes_bsn_closed",
            "bsn",
            postgresql_where=text("closed_at IS NOT NULL AND erased_at IS NULL AND bsn IS NOT NULL"),
        ),
        Index(
            "ix_intakes_match_closed",
            "birth_date",
            "family_name_key",
            postgresql_where=text("closed_at IS NOT NULL AND erased_at IS NULL"),
        ),
        # Referrals merged into a case: their referrers follow it (webhooks, the referrer's view).
        Index("ix_intakes_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
        # A referrer's own referrals, newest first (GET /referrals).
        Index("ix_intakes_referrer_received", "referrer_organisation_id", "received_at", "id"),
    )


class Contact(Base):
    __tablename__ = "intake_contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16))
    reached: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class Assessment(Base):
    __tablename__ = "intake_assessments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    visited_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(16))
    concerns: Mapped[list[Any]]
    safety_concern: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class Reopening(Base):
    """Aftercare: a closed intake reopened, with why (free text: erased with the intake)."""

    __tablename__ = "intake_reopenings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    previous_close_reason: Mapped[str | None] = mapped_column(String(32))
    reopened_by: Mapped[str] = mapped_column(String(64))
