"""The OpenAPI 3.1 document, shaped for the Dutch API Design Rules: servers at /api/v1,
API-Version on every success, problem+json on every error, contact details, and optional
fields written as `type: [X, "null"]` so date fields keep their `format` visible."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.config import API_VERSION

PREFIX = "/api/v1"

VERSION_HEADER = {
    "API-Version": {
        "description": "The full version of this API.",
        "schema": {"type": "string", "example": API_VERSION},
    }
}


def _collapse_nullable(node: Any) -> Any:
    if isinstance(node, dict):
        any_of = node.get("anyOf")
        if isinstance(any_of, list) and len(any_of) == 2 and {"type": "null"} in any_of:
            other = next(x for x in any_of if x != {"type": "null"})
            if "type" in other and isinstance(other["type"], str) and "$ref" not in other:
                merged = {k: v for k, v in node.items() if k != "anyOf"}
                merged.update(other)
                merged["type"] = [other["type"], "null"]
                node = merged
        return {k: _collapse_nullable(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_collapse_nullable(x) for x in node]
    return node


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=(
            "The central intake point (centraal aanmeldpunt) for pregnant women and young parents "
            "in vulnerable situations: referrals, self-registrations, the urgency worklist, consent, "
            "routing to programmes and signed webhooks. Tokens: `POST /oauth/token` (OAuth 2.0 client "
            "credentials); keys at `/.well-known/jwks.json`."
        ),
        routes=app.routes,
    )
    doc["info"]["contact"] = {
        "name": "Centraal Aanmeldpunt",
        "email": "api@centraal-aanmeldpunt.nl",
        "url": "https://centraal-aanmeldpunt.nl",
    }
    doc["info"]["license"] = {"name": "EUPL-1.2", "identifier": "EUPL-1.2"}
    doc["servers"] = [{"url": PREFIX, "description": "This deployment"}]
    doc["paths"] = {
        (path[len(PREFIX) :] or "/"): item for path, item in doc["paths"].items() if path.startswith(PREFIX)
    }
    for item in doc["paths"].values():
        for operation in item.values():
            for code, response in operation.get("responses", {}).items():
                if code.startswith(("2", "3")):
                    response.setdefault("headers", {}).update(VERSION_HEADER)
                elif code.startswith(("4", "5")):
                    content = response.pop("content", {})
                    first: dict[str, Any] = next(iter(content.values()), {})
                    schema = first.get("schema", {"$ref": "#/components/schemas/ProblemDetails"})
                    if code == "422" and "HTTPValidationError" in str(schema):
                        schema = {"$ref": "#/components/schemas/ProblemDetails"}
                    response["content"] = {"application/problem+json": {"schema": schema}}
            # FastAPI's automatic 422 does not happen here (invalid input is 400); a 422 stays
            # only where Idempotency-Key can give one.
            if "Idempotency-Key" not in str(operation.get("parameters", [])):
                operation["responses"].pop("422", None)
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return _collapse_nullable(doc)
