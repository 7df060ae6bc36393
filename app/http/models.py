from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class IdempotencyRecord(Base):
    """The first response to (caller, Idempotency-Key), replayed for 24 h."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (PrimaryKeyConstraint("owner", "key", name="pk_idempotency_keys"),)


class RateWindow(Base):
    """Fixed-window counters shared by every API replica."""

    __tablename__ = "rate_windows"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
