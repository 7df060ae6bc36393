"""The one pagination of every list endpoint (API.md: `?limit=` default 50, max 200,
`?cursor=`; the body is `{"items": [...], "nextCursor": "…" | null}`).

Keyset pagination: a cursor holds the sort key of the last item of a page, typed. A cursor
is opaque to clients (base64url of a JSON array); one that this API did not give out — not
base64, not JSON, wrong arity, a value of the wrong type, a bigint out of range — is a 400
problem naming `cursor`, never a 500.

How to write a list endpoint:

    BY_ID = Keyset(uuid.UUID)  # the sort key's types, in order; once per endpoint, at module level

    @router.get("/things", response_model=ThingPage, responses=LIST)
    async def list_things(principal: Admin, db: Db, page: PageParams) -> ThingPage:
        query = select(Thing).where(...)
        if (after := page.after(BY_ID)) is not None:
            (after_id,) = after
            query = query.where(Thing.id > after_id)
        rows = list((await db.scalars(query.order_by(Thing.id).limit(page.fetch))).all())
        rows, next_cursor = page.cut(rows, BY_ID, lambda t: (t.id,))
        return ThingPage(items=[...], next_cursor=next_cursor)

- `PageParams` is the `?limit=&cursor=` dependency (default 50, max 200); an endpoint that
  needs other bounds declares its own with `page_params(default=…, maximum=…)`.
- `page.fetch` is `limit + 1`: the one extra row tells whether there is a next page.
- `page.cut(rows, keyset, key)` keeps the first `limit` rows and, when there were more,
  encodes the last kept row's key (`key(row)`, the same values, in the same order, as the
  `Keyset`'s types) as `nextCursor`.
- The response model is a `Page[ItemModel]` subclass (app.http.schemas.Page).
- Sort by the keyset's columns with a unique last column (an id), so a cursor is an exact
  position; nullable columns may be typed `X | None` (e.g. `AwareDatetime | None`).
"""

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from pydantic import TypeAdapter

from app.http.problems import invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_NOT_A_CURSOR = [{"name": "cursor", "reason": "Not a cursor this API gave out."}]

Row = TypeVar("Row")


class Keyset:
    """The typed sort key a cursor carries, e.g. `Keyset(AwareDatetime | None, uuid.UUID)`."""

    def __init__(self, *types: Any) -> None:
        if not types:
            raise TypeError("a keyset needs at least one type")
        self._adapter: TypeAdapter[tuple[Any, ...]] = TypeAdapter(tuple[types])  # type: ignore[valid-type]

    def encode(self, values: Sequence[Any]) -> str:
        raw = self._adapter.dump_json(tuple(values))
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, cursor: str) -> tuple[Any, ...]:
        """The values, checked strictly as JSON (no bool for an int, no number for a date);
        anything else is a 400 problem naming `cursor`."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            raw = base64.urlsafe_b64decode(padded.encode("ascii"))
            return self._adapter.validate_json(raw, strict=True)
        except (ValueError, binascii.Error, UnicodeError, RecursionError):  # ValidationError is a ValueError
            raise invalid(_NOT_A_CURSOR) from None


@dataclass(frozen=True)
class Pagination:
    """One request's `?limit=` and `?cursor=` (see the module docstring for use)."""

    limit: int
    cursor: str | None

    @property
    def fetch(self) -> int:
        """How many rows to fetch: one more than a page, to know whether another follows."""
        return self.limit + 1

    def after(self, keyset: Keyset) -> tuple[Any, ...] | None:
        """The sort key of the previous page's last item, or None on the first page."""
        return keyset.decode(self.cursor) if self.cursor else None

    def cut(
        self, rows: Sequence[Row], keyset: Keyset, key: Callable[[Row], Sequence[Any]]
    ) -> tuple[list[Row], str | None]:
        """The page's rows and the `nextCursor` after them (None on the last page)."""
        page = list(rows[: self.limit])
        more = len(rows) > self.limit
        return page, (keyset.encode(key(page[-1])) if more and page else None)


def page_params(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Any:
    """A `?limit=&cursor=` dependency with these bounds (`Annotated[Pagination, page_params()]`)."""
    # No `from __future__ import annotations` in this module: FastAPI reads these annotations
    # at runtime, and they name this call's own `default` and `maximum`.

    def dependency(
        limit: Annotated[
            int, Query(ge=1, le=maximum, description=f"Items per page (default {default}, at most {maximum}).")
        ] = default,
        cursor: Annotated[
            str | None, Query(max_length=500, description="`nextCursor` of the previous page; absent for the first.")
        ] = None,
    ) -> Pagination:
        return Pagination(limit, cursor)

    return Depends(dependency)


PageParams = Annotated[Pagination, page_params()]
