"""The hash chain, pure: how one access-log row is hashed onto the previous one."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime

GENESIS = "0" * 64


def row_hash(
    prev_hash: str,
    *,
    id: uuid.UUID,
    at: datetime,
    action: str,
    intake_id: uuid.UUID | None,
    client_id: str,
    organisation: str,
    user_id: str | None,
    basis: str,
    emergency: bool,
) -> str:
    canonical = json.dumps(
        [
            str(id),
            at.isoformat(timespec="microseconds"),
            action,
            str(intake_id) if intake_id else None,
            client_id,
            organisation,
            user_id,
            basis,
            emergency,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()
