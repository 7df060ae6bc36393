"""POST /oauth/token (RFC 6749 §4.4), the JWKS, and the admin resources for organisations
and clients."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, unquote

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import select

from app import clock
from app.audit.models import AdminAction
from app.audit.service import field_changes, record_admin_change
from app.auth.deps import Admin
from app.auth.models import ApiClient, Organisation
from app.auth.passwords import verify_secret
from app.auth.service import create_client, get_or_create_organisation
from app.auth.tokens import sign
from app.config import Settings
from app.db import Db, session_factory
from app.http import ratelimit
from app.http.client_ip import rate_limit_key
from app.http.middleware import client_address
from app.http.openapi_docs import CREATE, LIST, READ, problems
from app.http.pagination import Keyset, PageParams
from app.http.problems import PROBLEM_JSON, Problem
from app.http.schemas import ApiModel, Name, OutModel, Page
from app.regions.tenancy import scope
from app.vocab import OAuthScope, OrganisationKind

public = APIRouter()
admin = APIRouter(tags=["Beheer"])


def oauth_error(status: int, error: str, detail: str, **headers: str) -> JSONResponse:
    """RFC 6749 error field and RFC 9457 members in one body."""
    return JSONResponse(
        {
            "error": error,
            "error_description": detail,
            "type": "about:blank",
            "title": "Token request refused",
            "status": status,
            "detail": detail,
        },
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={"Pragma": "no-cache", **headers},
    )


def _credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


async def _form(request: Request) -> dict[str, str] | None:
    """The request's parameters; None when the body is not a form or a flat JSON object."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                return None
            return {k: v for k, v in data.items() if isinstance(v, str)}
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly nested JSON
        return None
    return {k: v[0] for k, v in parsed.items()}


@public.post("/oauth/token", include_in_schema=False)
async def token(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    await ratelimit.enforce(f"token:{rate_limit_key(client_address(request.scope))}", settings.token_rate, 60)
    form = await _form(request)
    if form is None:
        return oauth_error(400, "invalid_request", "Send the parameters as a form or as a flat JSON object.")
    if form.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.")
    client_id, secret = _credentials(request, form)
    if not client_id or not secret:
        return oauth_error(
            401, "invalid_client", "Client authentication failed.", **{"WWW-Authenticate": 'Basic realm="aanmeldpunt"'}
        )
    async with session_factory()() as db:
        row = (
            await db.execute(
                select(ApiClient, Organisation)
                .join(Organisation, Organisation.id == ApiClient.organisation_id)
                .where(ApiClient.client_id == client_id)
            )
        ).first()
    client, org = (row[0], row[1]) if row else (None, None)
    ok = await verify_secret(client.secret_hash if client else None, secret)
    if not ok or client is None or org is None or not client.active:
        return oauth_error(
            401, "invalid_client", "Client authentication failed.", **{"WWW-Authenticate": 'Basic realm="aanmeldpunt"'}
        )
    requested = form.get("scope")
    scopes = sorted(set(requested.split())) if requested else list(client.scopes)
    if not scopes or any(s not in client.scopes for s in scopes):
        return oauth_error(400, "invalid_scope", "The client may not have one of these scopes.")
    issued = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": settings.token_issuer,
        "sub": client.client_id,
        "aud": settings.token_audience,
        "iat": issued,
        "exp": issued + settings.token_lifetime_seconds,
        "jti": secrets.token_hex(12),
        "scope": " ".join(scopes),
        "org": org.code,
        "org_id": str(org.id),
        "org_kind": org.kind,
        "region": org.region,
    }
    access_token = sign(claims, await request.app.state.keyring.current_signing_key())
    return JSONResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": settings.token_lifetime_seconds,
            "scope": " ".join(scopes),
        },
        headers={"Pragma": "no-cache"},
    )


@public.get("/.well-known/jwks.json", include_in_schema=False)
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(await request.app.state.keyring.jwks())


# --- admin: organisations and clients ---------------------------------------------------


class OrganisationIn(ApiModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="kebab-case code")
    name: Name
    kind: OrganisationKind
    region: str | None = Field(
        default=None, pattern=r"^[a-z0-9-]{2,64}$", description="Your own region (the default); another is 404."
    )


class OrganisationOut(OutModel):
    id: uuid.UUID
    code: str
    name: str
    kind: OrganisationKind
    region: str
    created_at: datetime


class ClientIn(ApiModel):
    organisation: str = Field(description="Organisation code", min_length=2, max_length=64)
    name: Name
    scopes: list[OAuthScope] = Field(min_length=1, max_length=len(OAuthScope))


class ClientOut(OutModel):
    client_id: str
    organisation: str
    name: str
    scopes: list[OAuthScope]
    active: bool
    created_at: datetime


class OrganisationPage(Page[OrganisationOut]):
    pass


class ClientPage(Page[ClientOut]):
    pass


class ClientCreated(ClientOut):
    client_secret: str = Field(description="Shown only in this answer.")


@admin.post("/organisations", status_code=201, response_model=OrganisationOut, responses={**CREATE, **problems(404)})
async def create_organisation(body: OrganisationIn, principal: Admin, db: Db) -> OrganisationOut:
    if body.region is not None and body.region != principal.region:
        # Another region is as unknown to this admin as a region that does not exist.
        raise Problem(404, "Not Found", "No region with this code.", "not-found")
    existing = await db.scalar(select(Organisation).where(Organisation.code == body.code))
    if existing is not None:
        raise Problem(409, "Conflict", "An organisation with this code exists.", "conflict")
    org = await get_or_create_organisation(db, body.code, name=body.name, kind=body.kind, region=principal.region)
    await record_admin_change(
        db,
        principal,
        AdminAction.ORGANISATION_CREATED,
        f"organisation {org.code}",
        field_changes({}, {"name": org.name, "kind": org.kind, "region": org.region}),
    )
    return OrganisationOut.model_validate(org, from_attributes=True)


BY_CODE = Keyset(str)


@admin.get("/organisations", response_model=OrganisationPage, responses=LIST)
async def list_organisations(principal: Admin, db: Db, page: PageParams) -> OrganisationPage:
    query = scope(principal).organisations()
    if (after := page.after(BY_CODE)) is not None:
        query = query.where(Organisation.code > after[0])
    rows = list((await db.scalars(query.order_by(Organisation.code).limit(page.fetch))).all())
    rows, next_cursor = page.cut(rows, BY_CODE, lambda o: (o.code,))
    return OrganisationPage(
        items=[OrganisationOut.model_validate(o, from_attributes=True) for o in rows], next_cursor=next_cursor
    )


@admin.post("/clients", status_code=201, response_model=ClientCreated, responses={**CREATE, **problems(404)})
async def create_api_client(body: ClientIn, principal: Admin, db: Db) -> ClientCreated:
    org = await scope(principal).organisation(db, body.organisation)
    client, secret = await create_client(db, org, body.name, list(body.scopes))
    await record_admin_change(
        db,
        principal,
        AdminAction.CLIENT_CREATED,
        f"client {client.client_id}",
        field_changes({}, {"organisation": org.code, "name": client.name, "scopes": client.scopes}),
    )
    return ClientCreated(
        client_id=client.client_id,
        client_secret=secret,
        organisation=org.code,
        name=client.name,
        scopes=client.scopes,
        active=True,
        created_at=client.created_at,
    )


@admin.get("/clients", response_model=ClientPage, responses=LIST)
async def list_clients(principal: Admin, db: Db, page: PageParams) -> ClientPage:
    query = scope(principal).clients()
    if (after := page.after(BY_CODE)) is not None:
        query = query.where(ApiClient.client_id > after[0])
    rows, next_cursor = page.cut(
        (await db.execute(query.order_by(ApiClient.client_id).limit(page.fetch))).all(),
        BY_CODE,
        lambda r: (r[0].client_id,),
    )
    items = [
        ClientOut(
            client_id=c.client_id,
            organisation=code,
            name=c.name,
            scopes=c.scopes,
            active=c.active,
            created_at=c.created_at,
        )
        for c, code in rows
    ]
    return ClientPage(items=items, next_cursor=next_cursor)


@admin.delete("/clients/{clientId}", status_code=204, responses=READ)
async def deactivate_client(
    request: Request, client_id: Annotated[str, Path(alias="clientId", max_length=64)], principal: Admin, db: Db
) -> None:
    client = await db.scalar(
        select(ApiClient).where(
            ApiClient.client_id == client_id, ApiClient.organisation_id.in_(scope(principal).organisation_ids())
        )
    )
    if client is None:
        raise Problem(404, "Not Found", "No client with this id.", "not-found")
    await record_admin_change(
        db,
        principal,
        AdminAction.CLIENT_DEACTIVATED,
        f"client {client_id}",
        field_changes({"active": client.active}, {"active": False}),
    )
    client.active = False
    await db.flush()
    request.app.state.client_status.forget(client_id)
