"""RFC 9457 problem details: every error this service gives has this one shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import clock
from app.db import CommitFailed
from app.i18n import messages
from app.i18n.language import Lang, preferred

PROBLEM_BASE = "https://centraal-aanmeldpunt.nl/problems/"
PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger("app.http")


class InvalidParam(BaseModel):
    name: str = Field(description="The field, as a dotted camelCase path, e.g. `client.birthDate`.")
    code: str = Field(description="Stable error code, e.g. `postcode.format` (docs/error-codes.md).")
    reason: str = Field(description="Plain words: Dutch when Accept-Language prefers `nl`, English otherwise.")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(default="about:blank")
    title: str
    status: int
    detail: str
    instance: str | None = None
    invalid_params: list[InvalidParam] | None = Field(default=None, alias="invalidParams")


class Problem(Exception):
    """Raise anywhere; answered as application/problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        slug: str | None = None,
        *,
        invalid_params: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug
        self.invalid_params = invalid_params
        self.headers = headers or {}
        self.extra = extra or {}


def not_found(what: str = "intake") -> Problem:
    return Problem(404, "Not Found", f"No {what} with this id exists for you.", "not-found")


def invalid(params: list[dict[str, str]]) -> Problem:
    return Problem(400, "Invalid input", "One or more fields are invalid.", "invalid-input", invalid_params=params)


# How far ahead of our clock a caller's reported moment may be (clocks of systems differ).
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def not_in_future(at: datetime, name: str) -> None:
    """A moment a caller reports (a contact's `at`, `visitedAt`, `obtainedAt`, …) is 400 when
    it lies ahead of now by more than the clock skew."""
    if at > clock.now() + CLOCK_SKEW:
        raise invalid([{"name": name, "reason": "Not in the future."}])
    # Year-1 moments with an offset overflow on conversion and break every later read of the
    # case file (500); nothing this service records happened before 1900.
    if at < EARLIEST:
        raise invalid([{"name": name, "reason": "Not before 1900."}])


def conflict(detail: str, slug: str = "conflict") -> Problem:
    return Problem(409, "Conflict", detail, slug)


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    slug: str | None = None,
    invalid_params: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if invalid_params is not None:
        body["invalidParams"] = invalid_params
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def field_name(loc: tuple[int | str, ...]) -> str:
    """('body', 'client', 'birthDate') -> 'client.birthDate'; list items as `children[0]`."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        source = parts.pop(0)
        if not parts:
            return str(source)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part in ("function-after", "function-before", "function-plain"):
            continue
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


_DATE_ERRORS = frozenset({"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"})
_DATETIME_ERRORS = frozenset({"datetime_parsing", "datetime_from_date_parsing", "datetime_type", "timezone_aware"})
_TYPE_ERRORS = frozenset(
    {"string_type", "int_type", "int_parsing", "float_type", "float_parsing", "dict_type", "model_type",
     "model_attributes_type", "list_type", "uuid_type", "uuid_parsing", "int_from_float"}
)  # fmt: skip


def _options(expected: Any) -> str:
    # Pydantic writes "'phone', 'email' or 'whatsapp'": its English "or" would end up in the
    # Dutch reason, so the values are listed with commas only.
    values = re.findall(r"'([^']*)'", str(expected))
    return ", ".join(values) if values else str(expected)


def _param(error: dict[str, Any]) -> dict[str, str]:
    """One pydantic error as an internal invalid param: its name, a catalogue code and the
    code's arguments; the words are chosen later, in the caller's language."""
    loc = tuple(error.get("loc", ()))
    name = field_name(loc)
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    last = str(loc[-1]) if loc else ""
    if kind in messages.CODES:  # our own validators raise PydanticCustomError(code, …)
        return {"name": name, "code": kind, **{k: str(v) for k, v in ctx.items()}}
    if kind == "missing":
        return {"name": name, "code": "field.required"}
    if kind == "extra_forbidden":
        if last == "bsn":
            return {"name": name, "code": "bsn.notAsked"}
        return {"name": name, "code": "field.unknown", "field": name}
    if kind == "string_too_long":
        return {"name": name, "code": "text.tooLong", "max": str(ctx.get("max_length", ""))}
    if kind == "string_too_short":
        return {"name": name, "code": "field.required"}
    if kind == "too_long":
        return {"name": name, "code": "list.tooLong", "max": str(ctx.get("max_length", ""))}
    if kind in ("literal_error", "enum"):
        return {"name": name, "code": "field.choice", "options": _options(ctx.get("expected", ""))}
    if kind in ("bool_parsing", "bool_type"):
        return {"name": name, "code": "field.boolean"}
    if kind in _DATE_ERRORS:
        return {"name": name, "code": "date.format", "example": "1998-03-15"}
    if kind in _DATETIME_ERRORS:
        return {"name": name, "code": "date.format", "example": "2026-03-15T10:30:00+01:00"}
    if kind == "string_pattern_mismatch":
        return {"name": name, "code": "houseNumber.format" if last == "houseNumber" else "field.format"}
    if kind == "value_error" and last == "email":
        return {"name": name, "code": "email.format"}
    if kind in _TYPE_ERRORS:
        return {"name": name, "code": "field.type"}
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return {"name": name, "code": "field.invalid", "reason": message}


def validation_params(errors: Any) -> list[dict[str, str]]:
    """Pydantic's errors as internal invalid params (see `messages.render` for the answer)."""
    params: list[dict[str, str]] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            params.append({"name": "body", "code": "body.json"})
            continue
        if error.get("type") == "missing" and loc == ("body",):
            params.append({"name": "body", "code": "body.required"})
            continue
        params.append(_param(error))
    return params


def language(request: Request) -> Lang:
    return preferred(request.headers.get("accept-language"))


def _localised(slug: str | None, lang: Lang, title: str, detail: str) -> tuple[str, str]:
    """The title and detail a citizen can meet, in her language; others as raised."""
    if slug in ("invalid-input", "rate-limited") and f"{slug}.detail" in messages.TEXTS:
        if slug == "invalid-input" and detail != messages.TEXTS["invalid-input.detail"].en:
            return messages.text(f"{slug}.title", lang), detail  # a specific detail stays as raised
        return messages.text(f"{slug}.title", lang), messages.text(f"{slug}.detail", lang)
    return title, detail


def install(app: FastAPI) -> None:

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        lang = language(request)
        title, detail = _localised(exc.slug, lang, exc.title, exc.detail)
        return problem_response(
            exc.status,
            detail,
            title=title,
            slug=exc.slug,
            invalid_params=messages.render(exc.invalid_params, lang) if exc.invalid_params is not None else None,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = language(request)
        return problem_response(
            400,
            messages.text("invalid-input.detail", lang),
            title=messages.text("invalid-input.title", lang),
            slug="invalid-input",
            invalid_params=messages.render(validation_params(exc.errors()), lang),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
        if exc.status_code == 404:
            detail = "There is nothing at this path."
        return problem_response(exc.status_code, detail, headers=dict(exc.headers or {}))

    @app.exception_handler(CommitFailed)
    async def _not_committed(_: Request, exc: CommitFailed) -> JSONResponse:
        log.warning("commit_failed", error=str(exc))
        return problem_response(
            503,
            "The change could not be stored; nothing of it was kept. Try again (with the same Idempotency-Key).",
            slug="not-committed",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(OSError)
    @app.exception_handler(TimeoutError)
    async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database_unavailable", error=type(exc).__name__)
        return problem_response(
            503,
            "The service cannot reach its database right now. Try again shortly.",
            slug="unavailable",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _dbapi(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return problem_response(
                503,
                "The database connection was lost. Try again shortly.",
                slug="unavailable",
                headers={"Retry-After": "5"},
            )
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(getattr(exc.orig, "__cause__", None), "sqlstate", "")
        if str(sqlstate) in ("57014", "55P03", "57P01", "57P02", "57P03") or str(sqlstate).startswith(("08", "53")):
            # statement timeout, lock not available, shutdown, connection, resources: transient
            return problem_response(
                503,
                "The database is too busy or unavailable right now. Try again shortly.",
                slug="unavailable",
                headers={"Retry-After": "5"},
            )
        if str(sqlstate) in ("40001", "40P01"):  # serialization failure, deadlock: transient
            return problem_response(
                503,
                "A conflicting change happened at the same moment. Try again.",
                slug="unavailable",
                headers={"Retry-After": "1"},
            )
        if str(sqlstate).startswith("22"):  # data exception: e.g. a NUL character, a value out of range
            return problem_response(
                400, "A value in the request cannot be stored or compared.", title="Invalid input", slug="invalid-input"
            )
        log.error("database_error", error=type(exc.orig).__name__ if exc.orig else "DBAPIError", where=where(exc))
        return problem_response(500, "Something went wrong on our side; it has been logged.")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", error=type(exc).__name__, where=where(exc))
        return problem_response(500, "Something went wrong on our side; it has been logged.")


def where(exc: BaseException) -> str:
    """File and line of the innermost frame: logged instead of the message, which may hold
    personal data."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
