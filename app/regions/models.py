from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class RegionPolicyVersion(Base):
    """One version of a region's policy. Version 1 is the region file's `policy` block, seeded
    at start when the region has none; later versions come from PUT /regions/{code}/policy.
    Rows are never changed: a change is a new version."""

    __tablename__ = "region_policies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    region: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    policy: Mapped[dict[str, Any]]

    __table_args__ = (UniqueConstraint("region", "version", name="uq_region_policies_region_version"),)


class AdminTrailEntry(Base):
    """The durable trail of administrative changes (who, when, what changed), kept in the
    database. Holds no personal data of clients."""

    __tablename__ = "admin_trail"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime]
    region: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)

    __table_args__ = (Index("ix_admin_trail_region_seq", "region", "seq"),)
