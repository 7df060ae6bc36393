from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Deadline(Base):
    __tablename__ = "deadlines"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    approaching_at: Mapped[datetime]
    met_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    approaching_emitted_at: Mapped[datetime | None]
    breached_emitted_at: Mapped[datetime | None]
    loosened_reason: Mapped[str | None] = mapped_column(Text)
    policy_version: Mapped[int | None]  # the region's policy version it was computed with

    __table_args__ = (
        # The monitor's two queues: cost follows what is due, not how many intakes exist.
        Index(
            "ix_deadlines_approaching_due",
            "approaching_at",
            postgresql_where=text("met_at IS NULL AND cancelled_at IS NULL AND approaching_emitted_at IS NULL"),
        ),
        Index(
            "ix_deadlines_breach_due",
            "due_at",
            postgresql_where=text("met_at IS NULL AND cancelled_at IS NULL AND breached_emitted_at IS NULL"),
        ),
        Index("ix_deadlines_due_at", "due_at"),
    )
