"""The one pagination helper (app/http/pagination.py), directly: typed cursors round-trip,
garbage is a 400 problem naming `cursor`, pages are cut at `limit` with a cursor only when
more follow."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import AwareDatetime

from app.http.pagination import Keyset, Pagination
from app.http.problems import Problem
from app.http.schemas import SequenceNumber

MOMENT_ID = Keyset(AwareDatetime | None, uuid.UUID)
SEQ = Keyset(SequenceNumber)


def raw(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).rstrip(b"=").decode()


def test_a_cursor_round_trips_with_its_types() -> None:
    moment, ident = datetime(2026, 11, 24, 9, 30, tzinfo=UTC), uuid.uuid4()
    assert MOMENT_ID.decode(MOMENT_ID.encode((moment, ident))) == (moment, ident)
    assert MOMENT_ID.decode(MOMENT_ID.encode((None, ident))) == (None, ident)
    assert SEQ.decode(SEQ.encode([2**63 - 1])) == (2**63 - 1,)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 !",
        "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        raw({"a": 1}),
        raw([]),
        raw(["2026-11-24T10:00:00", str(uuid.uuid4())]),  # no offset
        raw([None, 7]),
        raw([True, str(uuid.uuid4())]),
        raw(["2026-11-24T10:00:00Z", str(uuid.uuid4()), "extra"]),
    ],
)
def test_garbage_is_a_400_naming_cursor(cursor: str) -> None:
    with pytest.raises(Problem) as refused:
        MOMENT_ID.decode(cursor)
    assert refused.value.status == 400
    assert refused.value.invalid_params == [{"name": "cursor", "reason": "Not a cursor this API gave out."}]


@pytest.mark.parametrize("values", [[True], [-1], [2**63], [1.5], ["3"], [None], [1, 2]])
def test_sequence_numbers_are_strict(values: Any) -> None:
    with pytest.raises(Problem):
        SEQ.decode(raw(values))


def test_cut_gives_a_cursor_only_when_more_follow() -> None:
    page = Pagination(limit=2, cursor=None)
    assert page.fetch == 3 and page.after(SEQ) is None
    rows, next_cursor = page.cut([10, 11, 12], SEQ, lambda n: (n,))
    assert rows == [10, 11] and next_cursor is not None
    assert Pagination(limit=2, cursor=next_cursor).after(SEQ) == (11,)
    assert page.cut([10, 11], SEQ, lambda n: (n,)) == ([10, 11], None)
    assert page.cut([], SEQ, lambda n: (n,)) == ([], None)
