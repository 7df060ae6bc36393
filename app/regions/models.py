from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
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
