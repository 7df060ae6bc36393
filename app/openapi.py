"""The OpenAPI 3.1 document, shaped for the Dutch API Design Rules: servers at /api/v1,
API-Version on every success, problem+json on every error, contact details, and optional
fields written as `type: [X, "null"]` so date fields keep their `format` visible."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic.alias_generators import to_camel
from pydantic.json_schema import models_json_schema

from app.config import API_VERSION
from app.intakes.events import EVENT_DATA

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


# Operation ids read as verbs (`createReferral`, `listIntakes`): the endpoint function's name
# in camelCase, except where that name alone does not say what it acts on.
OPERATION_IDS = {
    ("post", "/deadlines/simulate"): "simulateDeadlines",
    ("get", "/deadlines/report"): "getDeadlineReport",
    ("post", "/routing/simulate"): "simulateRouting",
    ("post", "/intakes/{id}/assessment"): "assessIntake",
    ("post", "/intakes/{id}/routing"): "routeIntake",
    ("post", "/intakes/{id}/close"): "closeIntake",
    ("post", "/intakes/{id}/merge"): "mergeIntake",
    ("post", "/intakes/{id}/consents/{consentId}/withdraw"): "withdrawConsent",
    ("get", "/intakes/{id}/access-log"): "getAccessLog",
    ("post", "/handoffs/{id}/accept"): "acceptHandoff",
    ("post", "/handoffs/{id}/decline"): "declineHandoff",
    ("post", "/handoffs/{id}/first-contact"): "reportFirstContact",
    ("post", "/handoffs/{id}/support-started"): "reportSupportStarted",
    ("post", "/webhook-subscriptions/{id}/rotate-secret"): "rotateSubscriptionSecret",
    ("post", "/webhook-subscriptions/{id}/replay"): "replayDeliveries",
    ("post", "/clients"): "createClient",
}


def unique_id(route: APIRoute) -> str:
    """Unique per operation while the document is built; `build_openapi` keeps the name part."""
    return f"{route.name}:{','.join(sorted(route.methods or ()))}:{route.path_format}"


def _move_request_defaults(schemas: dict[str, Any]) -> None:
    """A property with a default that the client may leave out is optional, but some generators
    (openapi-typescript) make every property with a `default` required. Say the default in
    words instead, so every generator leaves the field optional."""
    for schema in schemas.values():
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            if name not in required and "default" in prop:
                default = prop.pop("default")
                if default is not None:
                    note = f"Default: `{json.dumps(default)}`."
                    prop["description"] = f"{prop['description']} {note}" if prop.get("description") else note


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
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            operation["operationId"] = OPERATION_IDS.get((method, path)) or to_camel(
                operation["operationId"].split(":")[0]
            )
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
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _move_request_defaults(schemas)
    add_token_endpoint(doc)
    add_webhooks(doc)
    return _collapse_nullable(doc)


SIGNATURE_HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "The event id, the same on every retry: drop duplicates on it."},
    {"name": "webhook-timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "Unix seconds of this attempt."},
    {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "`v1,<base64 HMAC-SHA256>` per Standard Webhooks; two, space-separated, while a secret rotates."},
]  # fmt: skip


def add_webhooks(doc: dict[str, Any]) -> None:
    """What a subscriber receives, one entry per event type (OpenAPI 3.1 `webhooks`), built from
    the same models the events are made with (app.intakes.events), so generated clients get
    each event's `data` typed. `url` is added per receiver at delivery (docs/webhooks.md)."""
    schemas = doc["components"]["schemas"]
    models = sorted({model for shapes in EVENT_DATA.values() for model in shapes}, key=lambda m: m.__name__)
    _, found = models_json_schema(
        [(model, "serialization") for model in models], ref_template="#/components/schemas/{model}", by_alias=True
    )
    for name, schema in found.get("$defs", {}).items():
        if "intakeId" in schema.get("properties", {}):
            schema["properties"]["url"] = {
                "type": "string",
                "format": "uri",
                "description": "Where to fetch the details with your own token (your referral view as a referrer).",
            }
            schema["required"] = [*schema.get("required", []), "url"]
        schemas.setdefault(name, schema)
    webhooks = doc.setdefault("webhooks", {})
    for event_type, shapes in EVENT_DATA.items():
        refs = [{"$ref": f"#/components/schemas/{model.__name__}"} for model in shapes]
        name = "".join(part.capitalize() for part in event_type.value.replace(".", "_").split("_"))
        webhooks[event_type.value] = {
            "post": {
                "operationId": f"on{name}",
                "summary": f"`{event_type.value}` (docs/webhooks.md says when)",
                "parameters": SIGNATURE_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["type", "timestamp", "data"],
                                "properties": {
                                    "type": {"type": "string", "enum": [event_type.value]},
                                    "timestamp": {"type": "string", "format": "date-time"},
                                    "data": refs[0] if len(refs) == 1 else {"oneOf": refs},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "2XX": {"description": "Received: any 2xx counts as delivered; anything else is retried."}
                },
            }
        }


def add_token_endpoint(doc: dict[str, Any]) -> None:
    """`POST /oauth/token` is served outside the framework's schema (it speaks RFC 6749, not
    JSON in camelCase); describe it here so generated clients can get a token. It is served at
    `/oauth/token` and, for clients that only know the server URL, at `/api/v1/oauth/token`."""
    schemas = doc["components"]["schemas"]
    schemas["TokenRequest"] = {
        "type": "object",
        "title": "TokenRequest",
        "description": "RFC 6749 §4.4. Send the client credentials with HTTP Basic, or as `client_id` and "
        "`client_secret` in the form.",
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {"type": "string", "description": "Space-separated scopes; default: all of the client's."},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
        },
        "required": ["grant_type"],
    }
    schemas["TokenResponse"] = {
        "type": "object",
        "title": "TokenResponse",
        "properties": {
            "access_token": {"type": "string", "description": "An ES256-signed JWT."},
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": {"type": "integer", "description": "Seconds until the token expires."},
            "scope": {"type": "string", "description": "The granted scopes, space-separated."},
        },
        "required": ["access_token", "token_type", "expires_in", "scope"],
    }
    schemas["TokenError"] = {
        "type": "object",
        "title": "TokenError",
        "description": "The RFC 6749 `error` field together with the RFC 9457 problem members.",
        "properties": {
            "error": {
                "type": "string",
                "enum": ["invalid_request", "invalid_client", "invalid_scope", "unsupported_grant_type"],
            },
            "error_description": {"type": "string"},
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
        "required": ["error", "type", "title", "status", "detail"],
    }
    error = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/TokenError"}}}
    doc["paths"]["/oauth/token"] = {
        "post": {
            "tags": ["Authenticatie"],
            "summary": "Get an access token",
            "description": "OAuth 2.0 client credentials (RFC 6749 §4.4). Also served at `/oauth/token` on the "
            "host root. Rate-limited per caller address.",
            "operationId": "getToken",
            "security": [{"clientBasic": []}, {}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}
                },
            },
            "responses": {
                "200": {
                    "description": "A token.",
                    "headers": dict(VERSION_HEADER),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}},
                },
                "400": {"description": "Unsupported grant type or a scope the client may not have.", "content": error},
                "401": {"description": "Client authentication failed.", "content": error},
                "429": {"description": "Too many token requests; see Retry-After.", "content": error},
                "503": {"description": "The database is unavailable; see Retry-After.", "content": error},
            },
        }
    }
    security = doc["components"].setdefault("securitySchemes", {})
    security["clientBasic"] = {
        "type": "http",
        "scheme": "basic",
        "description": "Client id and secret, only for `POST /oauth/token`.",
    }
    if "oauth2" in security:
        security["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] = "/api/v1/oauth/token"
