"""Shared bits for documenting routes: the problem responses each route can give."""

from __future__ import annotations

from typing import Any

from app.http.problems import ProblemDetails

_DESCRIPTIONS = {
    400: "Invalid input: every field error is listed in `invalidParams`.",
    401: "No valid Bearer token.",
    403: "The token lacks the scope this needs.",
    404: "Not found, or not visible to you.",
    409: "Conflict with the intake's state, or a request with this Idempotency-Key is in flight.",
    412: "The If-Match tag is stale.",
    413: "The body is too large.",
    415: "Send application/json.",
    422: "The Idempotency-Key was used with a different body.",
    429: "Too many requests; see Retry-After.",
    503: "The database is unavailable; see Retry-After.",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ProblemDetails, "description": _DESCRIPTIONS[code]} for code in codes}


READ = problems(400, 401, 403, 404, 503)
LIST = problems(400, 401, 403, 503)
CREATE = problems(400, 401, 403, 409, 413, 415, 422, 503)
ACTION = problems(400, 401, 403, 404, 409, 412, 413, 415, 503)
