"""Base model for the API: camelCase on the wire, unknown fields refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from app import clock
from app.names import checked_name


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


# A name of a person, organisation, client or programme: NFC, without zero-width or bidi
# control characters (app.names), before it is stored or matched.
def _name(value: str) -> str:
    try:
        return checked_name(value)
    except ValueError:
        raise PydanticCustomError("field.required", "Fill this in.") from None


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]

# A moment on the wire in UTC with `Z` (clock.iso_z), whatever zone it was computed in.
UtcDateTime = Annotated[datetime, PlainSerializer(clock.iso_z, return_type=str, when_used="json")]

T = TypeVar("T")


class ActorOut(OutModel):
    """Who did it: the organisation, its client (system) and, when the token names one, the user."""

    organisation: str | None = None
    client: str | None = None
    user: str | None = None


class Page(OutModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page.")


# A bigint sequence number in a cursor (a larger one could not be compared in PostgreSQL).
SequenceNumber = Annotated[int, Field(ge=0, le=2**63 - 1)]
