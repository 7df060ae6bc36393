from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
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
