"""Base model for the API: camelCase on the wire, unknown fields refused."""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from app.http.problems import invalid


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", serialize_by_alias=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here, named, instead of failing on insert.
        if _has_nul(value):
            raise PydanticCustomError("text.nul", "NUL characters are not allowed.")
        return value


class OutModel(BaseModel):
    """Response models: camelCase out, built from our own data."""

    # Every field of an answer is always present (null when there is nothing), so generated
    # clients see them as required.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        json_schema_serialization_defaults_required=True,
    )


T = TypeVar("T")


class Page(OutModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page.")


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# A bigint sequence number in a cursor (a larger one could not be compared in PostgreSQL).
SequenceNumber = Annotated[int, Field(ge=0, le=2**63 - 1)]

_NOT_A_CURSOR = [{"name": "cursor", "reason": "Not a cursor this API gave out."}]


@lru_cache(maxsize=32)
def _cursor_adapter(types: tuple[Any, ...]) -> TypeAdapter[Any]:
    return TypeAdapter(tuple[types])  # type: ignore[valid-type]


def decode_cursor(cursor: str, *types: Any) -> tuple[Any, ...]:
    """The values of a cursor, one per type (e.g. `datetime | None, uuid.UUID`), checked
    strictly as JSON (no bool for an int, no number for a date); anything else is 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        values: tuple[Any, ...] = _cursor_adapter(types).validate_json(raw, strict=True)
    except (ValueError, binascii.Error, UnicodeError, RecursionError):  # ValidationError is a ValueError
        raise invalid(_NOT_A_CURSOR) from None
    return values
