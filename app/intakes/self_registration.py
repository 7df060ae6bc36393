"""A woman registers herself: the one path both doors use — the JSON endpoint
(`POST /api/v1/self-registrations`) and the form at `/aanmelden` — so both have the same
rate limit, the same validation and the same transaction (intake, consents, deadlines,
audit row and `intake.received` outbox event, in `service.receive`)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.config import Settings
from app.http import ratelimit
from app.http.client_ip import rate_limit_key
from app.http.middleware import client_address
from app.http.problems import invalid
from app.intakes import service
from app.intakes.schemas import ConsentGiven, Pregnancy, SelfRegistrationIn
from app.intakes.service import IntakeBundle
from app.intakes.validation import pregnancy_problems, self_consent_problems, self_registration_problems
from app.regions.config import RegionConfig
from app.regions.tenancy import tenancy


async def enforce_rate(request: Request) -> None:
    """One budget per caller address for both doors: 429 with Retry-After past it."""
    settings: Settings = request.app.state.settings
    await ratelimit.enforce(
        f"self-registration:{rate_limit_key(client_address(request.scope))}",
        settings.self_registration_rate,
        settings.self_registration_window_seconds,
    )


def problems(request: Request, body: SelfRegistrationIn) -> list[dict[str, str]]:
    """Everything wrong with a registration pydantic accepted (the region, rules across fields)."""
    now = clock.now()
    return tenancy(request).region_problems(body.region) + self_registration_problems(
        body, now, now.astimezone(clock.AMSTERDAM).date()
    )


def partial_problems(payload: dict[str, Any]) -> list[dict[str, str]]:
    """When the body as a whole did not validate: the rules across fields of the parts that
    did (her consent, her pregnancy), so a form can list every error at once."""
    now = clock.now()
    found: list[dict[str, str]] = []
    try:
        found += self_consent_problems(ConsentGiven.model_validate(payload.get("consent")), now)
    except ValidationError:
        pass
    try:
        pregnancy = Pregnancy.model_validate(payload.get("pregnancy"))
    except ValidationError:
        pass
    else:
        found += pregnancy_problems(pregnancy, now.astimezone(clock.AMSTERDAM).date())
    return found


def check(request: Request, body: SelfRegistrationIn) -> None:
    if found := problems(request, body):
        raise invalid(found)


def region_of(request: Request, body: SelfRegistrationIn) -> RegionConfig:
    regions = tenancy(request)
    return regions.policy(regions.region_param(body.region))


async def register(db: AsyncSession, request: Request, body: SelfRegistrationIn) -> IntakeBundle:
    """Store a checked registration; the caller's `Db` commits it before answering."""
    return await service.receive(
        db, body, principal=None, region=region_of(request, body), router=request.app.state.router
    )
