"""app/audit/chain.py directly: each access-log row's hash covers the previous hash and every
field of the row, so changing, dropping or reordering a row breaks the chain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from app.audit.chain import GENESIS, row_hash

ROW: dict[str, Any] = {
    "id": uuid.UUID("6f1c2a4e-0000-4000-8000-000000000001"),
    "at": datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    "action": "read",
    "intake_id": uuid.UUID("6f1c2a4e-0000-4000-8000-000000000002"),
    "client_id": "amp_staff",
    "organisation": "aanmeldpunt-rotterdam",
    "user_id": None,
    "basis": "processing",
    "emergency": False,
}


def test_the_hash_is_stable_and_hex() -> None:
    first = row_hash(GENESIS, **ROW)
    assert first == row_hash(GENESIS, **ROW) and len(first) == 64 and int(first, 16) >= 0


def test_every_field_and_the_previous_hash_count() -> None:
    base = row_hash(GENESIS, **ROW)
    changed = {
        "id": uuid.uuid4(),
        "at": datetime(2026, 11, 24, 9, 30, 0, 1, tzinfo=UTC),
        "action": "search",
        "intake_id": None,
        "client_id": "amp_other",
        "organisation": "elsewhere",
        "user_id": "k.bakker",
        "basis": "meldcode",
        "emergency": True,
    }
    for field, value in changed.items():
        assert row_hash(GENESIS, **{**ROW, field: value}) != base, field
    assert row_hash(base, **ROW) != base


def test_a_chain_reordered_does_not_verify() -> None:
    second = {**ROW, "id": uuid.uuid4(), "action": "update"}
    h1 = row_hash(GENESIS, **ROW)
    h2 = row_hash(h1, **second)
    swapped_first = row_hash(GENESIS, **second)
    assert row_hash(swapped_first, **ROW) != h2
