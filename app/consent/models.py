from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class ConsentRecord(Base):
    """Append-only: a withdrawal is a new record (given=false) pointing at what it withdraws."""

    __tablename__ = "consents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    scope: Mapped[str] = mapped_column(String(32))
    given: Mapped[bool] = mapped_column(Boolean)
    obtained_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]
    recorded_by_client: Mapped[str] = mapped_column(String(64))
    recorded_by_organisation: Mapped[str] = mapped_column(String(64))
    withdraws_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    note: Mapped[str | None] = mapped_column(Text)


class LegalBasisRecord(Base):
    """A legal basis other than consent (the meldcode), as rows for the case file: who asked,
    why, when, and who confirmed it (four eyes). Only a confirmed row sets the intake's
    `legal_basis`; a referrer's own meldcode referral is stored confirmed at receipt."""

    __tablename__ = "legal_bases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    basis: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # staff | referral
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed
    justification: Mapped[str | None] = mapped_column(Text)  # personal data: erased with the intake
    requested_at: Mapped[datetime]
    requested_by_client: Mapped[str] = mapped_column(String(64))
    requested_by_user: Mapped[str | None] = mapped_column(String(200))
    requested_by_organisation: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_client: Mapped[str | None] = mapped_column(String(64))
    confirmed_by_user: Mapped[str | None] = mapped_column(String(200))
    confirmed_by_organisation: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # At most one request waits for its second pair of eyes per intake.
        Index(
            "uq_legal_bases_one_pending",
            "intake_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
    )
