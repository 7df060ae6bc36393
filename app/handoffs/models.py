from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Handoff(Base):
    """One offer of an intake to one programme, with its own state (app.handoffs.lifecycle)."""

    __tablename__ = "handoffs"
    # One live handoff per programme per intake; several programmes may be live side by side.
    __table_args__ = (
        Index(
            "uq_handoffs_live_programme",
            "intake_id",
            "programme",
            unique=True,
            postgresql_where=text("status IN ('offered', 'accepted', 'first_contact', 'support_started')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    programme: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    offered_at: Mapped[datetime]
    offered_by: Mapped[str] = mapped_column(String(64))
    offer_reason: Mapped[str | None] = mapped_column(Text)  # staff's why; not shown to the programme
    # The region's `support_start` working days counted from the offer (not from receipt).
    support_start_due_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]
    first_contact_at: Mapped[datetime | None]
    support_started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    end_note: Mapped[str | None] = mapped_column(Text)
