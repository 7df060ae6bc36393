from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Identity, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class AccessLogEntry(Base):
    """NEN 7513-style access log row. Append-only (a trigger refuses UPDATE/DELETE) and
    chained: `hash` = HMAC(audit key, prev_hash + canonical row), so an edit or a gap shows
    even to someone who can write the table (app.audit.chain)."""

    __tablename__ = "access_log"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
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
    # The audit key that sealed the row (app.audit.chain.key_id); NULL: written before the key.
    key_id: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_access_log_intake", "intake_id", "seq"),)


class AdminAction(StrEnum):
    """What an administrative change did (the `action` of an admin-trail row)."""

    ORGANISATION_CREATED = "organisation.created"
    CLIENT_CREATED = "client.created"
    CLIENT_DEACTIVATED = "client.deactivated"
    PROGRAMME_CHANGED = "programme.changed"
    SUBSCRIPTION_CREATED = "webhook_subscription.created"
    SUBSCRIPTION_CHANGED = "webhook_subscription.changed"
    SUBSCRIPTION_DELETED = "webhook_subscription.deleted"
    SUBSCRIPTION_SECRET_ROTATED = "webhook_subscription.secret_rotated"  # noqa: S105 - an action name
    SUBSCRIPTION_REPLAY_QUEUED = "webhook_subscription.replay_queued"
    POLICY_VERSION_STORED = "region_policy.version_stored"
    SIGNING_KEY_ROTATED = "signing_key.rotated"
    ENCRYPTION_KEY_ROTATED = "encryption_key.rotated"


# The region of an admin-trail row that concerns every region of the deployment (key rotations).
ALL_REGIONS = "*"


class AdminTrailEntry(Base):
    """The durable trail of administrative changes (who, when, what changed), kept in the
    database, append-only (a trigger refuses UPDATE and DELETE). Holds no personal data of
    clients. Written by `app.audit.service.record_admin_change` in the change's transaction."""

    __tablename__ = "admin_trail"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[datetime]
    region: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)

    __table_args__ = (Index("ix_admin_trail_region_seq", "region", "seq"),)
