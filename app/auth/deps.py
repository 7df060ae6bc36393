"""FastAPI dependencies: the caller's Principal from a Bearer token, and scope checks."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from sqlalchemy import select

from app.auth import external
from app.auth.models import Organisation
from app.auth.principal import SCOPES, Principal
from app.auth.tokens import TokenError, unverified_header, unverified_issuer, verify
from app.config import Settings
from app.db import session_factory
from app.http.problems import Problem

oauth2 = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token", scopes=SCOPES)),
    scheme_name="oauth2",
    description="OAuth 2.0 client credentials; send the token as `Authorization: Bearer …`.",
    auto_error=False,
)


def unauthorized(detail: str = "A valid Bearer token is required.") -> Problem:
    return Problem(
        401, "Unauthorized", detail, "unauthorized", headers={"WWW-Authenticate": 'Bearer realm="aanmeldpunt"'}
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail, "forbidden")


async def _external_principal(
    claims: dict[str, Any], settings: Settings, known: dict[str, tuple[uuid.UUID, str, str]]
) -> Principal:
    """Organisation and scopes from EXTERNAL_MAPPING only; the token's `org` is never read and
    its `scope` can only narrow what the mapping allows."""
    try:
        granted = external.grant(claims, settings.external_mapping)
    except external.NotMapped as exc:
        raise forbidden(str(exc)) from None
    code = granted.organisation
    if code not in known:
        async with session_factory()() as db:
            org = await db.scalar(select(Organisation).where(Organisation.code == code))
        if org is None:
            raise forbidden("The organisation this account is mapped to does not exist here.")
        known[code] = (org.id, org.kind, org.region)
    org_id, kind, region = known[code]
    username = claims.get("preferred_username")
    return Principal(
        client_id=str(claims["sub"]),
        organisation_id=org_id,
        organisation_code=code,
        organisation_kind=kind,
        region=region,
        scopes=granted.scopes,
        user=username if isinstance(username, str) else str(claims["sub"]),
    )


async def current_principal(
    request: Request, security_scopes: SecurityScopes, token: Annotated[str | None, Depends(oauth2)]
) -> Principal:
    del token  # the scheme is there for the OpenAPI document; the header is parsed here
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise unauthorized()
    credentials = credentials.strip()
    settings: Settings = request.app.state.settings
    try:
        header = unverified_header(credentials)
        issuer = unverified_issuer(credentials)
        external = request.app.state.external_keys
        if external is not None and settings.external_issuer and issuer == settings.external_issuer:
            keys = await external.keys(header.get("kid"))
            claims = verify(
                credentials,
                keys,
                issuer=settings.external_issuer,
                audience=settings.external_audience or settings.token_audience,
            )
            principal = await _external_principal(claims, settings, request.app.state.external_orgs)
        else:
            keys = await request.app.state.keyring.public_keys_knowing(header.get("kid"))
            claims = verify(credentials, keys, issuer=settings.token_issuer, audience=settings.token_audience)
            principal = Principal(
                client_id=str(claims["sub"]),
                organisation_id=uuid.UUID(str(claims["org_id"])),
                organisation_code=str(claims["org"]),
                organisation_kind=str(claims.get("org_kind", "")),
                region=str(claims["region"]),  # the organisation's region, read when the token was issued
                scopes=frozenset(str(claims.get("scope", "")).split()),
                user=claims.get("user") if isinstance(claims.get("user"), str) else None,
            )
            if not await request.app.state.client_status.active(principal.client_id):
                raise TokenError("the client is deactivated")
    except (TokenError, KeyError, ValueError) as exc:
        raise unauthorized("The token is not valid.") from exc
    if security_scopes.scopes and not principal.has(*security_scopes.scopes):
        raise Problem(403, "Forbidden", "Your token lacks the scope this needs.", "forbidden")
    request.state.principal = principal
    return principal


def require(*scopes: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Any one of `scopes` suffices."""

    async def dependency(
        principal: Principal = Security(current_principal, scopes=list(scopes)),
    ) -> Principal:
        return principal

    return dependency


Staff = Annotated[Principal, Depends(require("intakes:read"))]
StaffWriter = Annotated[Principal, Depends(require("intakes:write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
