"""The request headers every action shares, declared once so the document says the same
thing about them on every route."""

from typing import Annotated

from fastapi import Header

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=100, description="The ETag you read; 412 when the intake changed since."),
]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255, description="Makes a retry safe for 24 h."),
]
