"""Cross-cutting HTTP behaviour as one pure ASGI middleware: headers on every response,
content-type and body-size checks before any endpoint runs, request metrics, and a last
guard that turns any escaped exception into a problem (with the headers still on)."""

from __future__ import annotations

import json
import time
from collections.abc import MutableMapping
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import API_VERSION
from app.http.client_ip import caller_address
from app.http.problems import PROBLEM_JSON, where
from app.metrics import REQUEST_LATENCY

log = structlog.get_logger("app.http")

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"api-version", API_VERSION.encode()),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Nothing here is a page to render (the form at /aanmelden sets its own policy): an error
    # answer, even one a browser opens at a mistyped form address, may load nothing at all.
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"referrer-policy", b"no-referrer"),
]
_FORM_PATHS = {"/oauth/token", "/api/v1/oauth/token"}
_HTML_FORM_PATHS = {"/aanmelden"}  # the citizen's form (app/web): a plain browser POST
_CSP = b"content-security-policy"
_BODY_METHODS = {"POST", "PUT", "PATCH"}


class BodyTooLarge(Exception):
    pass


def _problem_body(status: int, title: str, detail: str, slug: str | None) -> bytes:
    return json.dumps(
        {
            "type": f"https://centraal-aanmeldpunt.nl/problems/{slug}" if slug else "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
        }
    ).encode()


class HttpConventions:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}
        too_large = False  # the body went over the limit (announced or not, e.g. chunked)

        async def send_start(message: Message) -> None:
            status_holder["status"] = message["status"]
            status_holder["started"] = True
            headers = [h for h in message.get("headers", []) if h[0].lower() != b"api-version"]
            # A page that sets its own (stricter) Content-Security-Policy keeps it alone.
            own_csp = any(h[0].lower() == b"content-security-policy" for h in headers)
            message["headers"] = headers + [h for h in SECURITY_HEADERS if not (own_csp and h[0] == _CSP)]
            await send(message)

        async def send_with_headers(message: Message) -> None:
            if too_large:
                # Whatever the app makes of a body it could not read in full (a parser's 400,
                # say), the answer is 413; its own messages are dropped.
                if message["type"] == "http.response.start" and not status_holder["started"]:
                    await reply_too_large()
                return
            if message["type"] == "http.response.start":
                await send_start(message)
                return
            await send(message)

        async def reply(
            status: int,
            title: str,
            detail: str,
            slug: str | None = None,
            extra_headers: list[tuple[bytes, bytes]] | None = None,
        ) -> None:
            body = _problem_body(status, title, detail, slug)
            await send_start(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                        *(extra_headers or []),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

        async def reply_too_large() -> None:
            await reply(413, "Content Too Large", f"The body is larger than {self.max_body_bytes} bytes.", "too-large")

        try:
            refusal = self._refuse(scope)
            if refusal is not None:
                await reply(*refusal)
                return
            received = 0

            async def limited_receive() -> Message:
                nonlocal received, too_large
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        too_large = True
                        raise BodyTooLarge
                return message

            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not status_holder["started"]:
                await reply_too_large()
        except Exception as exc:  # the last guard: never a stack trace to a client
            log.error("unhandled_error", error=type(exc).__name__, where=where(exc))
            if too_large and not status_holder["started"]:
                await reply_too_large()
            elif not status_holder["started"]:
                await reply(500, "Internal Server Error", "Something went wrong on our side; it has been logged.")
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            REQUEST_LATENCY.labels(scope["method"], template, str(status_holder["status"])).observe(elapsed)
            # The route template, never the concrete path or query: no ids or data in logs.
            log.info(
                "request",
                method=scope["method"],
                route=template,
                status=status_holder["status"],
                ms=round(elapsed * 1000, 1),
            )

    def _refuse(self, scope: Scope) -> tuple[int, str, str, str] | None:
        """Checks that need only the request line and headers."""
        if scope["method"] not in _BODY_METHODS:
            return None
        headers = dict(scope["headers"])
        length_raw = headers.get(b"content-length")
        has_body = headers.get(b"transfer-encoding") is not None
        if length_raw is not None:
            try:
                length = int(length_raw)
            except ValueError:
                return 400, "Bad Request", "Content-Length is not a number.", "invalid-input"
            if length > self.max_body_bytes:
                return (413, "Content Too Large", f"The body is larger than {self.max_body_bytes} bytes.", "too-large")
            has_body = has_body or length > 0
        if not has_body:
            return None
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if scope["path"] in _HTML_FORM_PATHS:
            allowed = content_type == "application/x-www-form-urlencoded"
        elif scope["path"] in _FORM_PATHS:
            allowed = content_type in ("application/x-www-form-urlencoded", "application/json")
        else:
            allowed = content_type == "application/json" or content_type.endswith("+json")
        if not allowed:
            return (415, "Unsupported Media Type", "Send the body as application/json.", "unsupported-media-type")
        return None


def client_address(scope: MutableMapping[str, Any]) -> str:
    """The caller's address (behind TRUSTED_PROXIES: from X-Forwarded-For; see client_ip)."""
    return caller_address(scope)
