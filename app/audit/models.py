from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Identity, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class AccessLogEntry(Base):
    """NEN 7513-style access log row. Append-only (a trigger refuses UPDATE/DELETE) and
    hash-chained: `hash` = sha256(prev_hash + canonical row), so an edit or a gap shows."""

    __tablename__ = "access_log"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(24))
    intake_id: Mapped[uuid.UUID | None]
    client_id: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(String(32))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_access_log_intake", "intake_id", "seq"),)
