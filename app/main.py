"""create_app(): routers, middleware, lifespan; nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import crypto, migrate, roles
from app import db as database
from app.audit import keys as audit_keys
from app.auth import api as auth_api
from app.auth.client_status import ClientStatus
from app.auth.keys import ExternalKeys, KeyRing, ensure_signing_key
from app.config import API_VERSION, Environment, Settings, get_settings
from app.http import problems
from app.http.middleware import HttpConventions
from app.logging import configure as configure_logging
from app.openapi import build_openapi, unique_id
from app.ops import router as ops_router
from app.regions import policies
from app.regions.config import load_regions
from app.regions.tenancy import Tenancy
from app.routing.router import load_router
from app.web import pages as web_pages

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    from app.audit.api import router as audit_router
    from app.cases.api import router as cases_router
    from app.consent.api import router as consent_router
    from app.deadlines.api import router as deadlines_router
    from app.handoffs.api import router as handoffs_router
    from app.intakes.actions import router as actions_router
    from app.intakes.api import router as intakes_router
    from app.regions.api import router as regions_router
    from app.routing.api import router as routing_router
    from app.statistics.api import router as statistics_router
    from app.webhooks.api import router as webhooks_router

    router = APIRouter(prefix=API_PREFIX, redirect_slashes=False, dependencies=[Depends(policies.fresh_versions)])
    for sub in (
        intakes_router,
        actions_router,
        cases_router,
        consent_router,
        handoffs_router,
        deadlines_router,
        routing_router,
        statistics_router,
        regions_router,
        auth_api.admin,
        webhooks_router,
        audit_router,
    ):
        router.include_router(sub)
    return router


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.database_url
        if url is None:
            raise RuntimeError("DATABASE_URL is not set (`aanmeldpunt serve` starts an embedded server)")
        if problems := settings.production_problems():
            raise RuntimeError("ENVIRONMENT=production: " + "; ".join(problems))
        crypto.configure(settings)  # before the migrations: one of them encrypts existing secrets
        audit_keys.configure(settings)  # the access log's seals (app.audit.keys)
        if manage_database:
            await anyio.to_thread.run_sync(migrate.prepare, settings)
            database.init_engine(url, settings)
        if settings.environment == Environment.production and (problem := await roles.service_role_problem(url)):
            raise RuntimeError(f"ENVIRONMENT=production: {problem}")
        app.state.migration_head = migrate.head_revision(url)
        async with database.session_factory()() as db:
            await ensure_signing_key(db)
            await policies.seed(db, app.state.tenancy)
            await db.commit()
            await policies.load(db, app.state.tenancy)
        await app.state.keyring.load()
        workers: list[asyncio.Task[None]] = []
        if settings.run_workers:
            from app.worker import run_workers

            workers.append(asyncio.create_task(run_workers(settings)))
        try:
            yield
        finally:
            for task in workers:
                task.cancel()
            for task in workers:
                with anyio.CancelScope(shield=True):
                    try:
                        await task
                    except (asyncio.CancelledError, Exception):  # noqa: S110 - shutting down
                        pass
            if manage_database:
                await database.dispose_engine()

    app = FastAPI(
        title="Centraal Aanmeldpunt API",
        version=API_VERSION,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        generate_unique_id_function=unique_id,
    )
    app.state.settings = settings
    app.state.tenancy = Tenancy(load_regions(settings.region_codes))
    app.state.router = load_router(settings.router)
    app.state.keyring = KeyRing(
        lambda: database.session_factory()(),  # type: ignore[arg-type]
        refresh_seconds=settings.key_refresh_seconds,
    )
    app.state.client_status = ClientStatus(
        lambda: database.session_factory()(),  # type: ignore[arg-type]
        settings.client_status_cache_seconds,
    )
    app.state.external_orgs = {}  # organisation code -> (id, kind, region), per app
    app.state.external_keys = ExternalKeys(settings.external_jwks_url) if settings.external_jwks_url else None
    problems.install(app)
    app.add_middleware(HttpConventions, max_body_bytes=settings.max_body_bytes)
    if settings.cors_allow_origins:
        # Only the configured origins (a self-registration form on the region's site); no credentials.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
            expose_headers=["API-Version", "Location", "ETag", "Retry-After"],
            max_age=600,
        )
    app.include_router(ops_router)
    app.include_router(auth_api.public)
    # The token endpoint also under the API's base path, for generated clients that only know it.
    app.add_api_route(API_PREFIX + "/oauth/token", auth_api.token, methods=["POST"], include_in_schema=False)
    app.include_router(api_router())
    app.include_router(web_pages.router)  # the citizen's form at /aanmelden (not in the OpenAPI document)

    document: dict[str, Any] = {}

    @app.get(API_PREFIX + "/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        if not document:
            document.update(build_openapi(app))
        return document

    return app
