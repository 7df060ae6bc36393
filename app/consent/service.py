"""Recording consent and its withdrawal, with the effects a withdrawal has at once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.principal import Principal
from app.consent.models import ConsentRecord
from app.consent.rules import Scope, standing_scopes
from app.http.problems import conflict, invalid, not_found
from app.intakes import workflow
from app.intakes.lifecycle import Status, Step
from app.intakes.service import IntakeBundle, thin_data
from app.regions.config import RegionConfig
from app.webhooks.outbox import emit


def _check_moment(at: datetime, name: str) -> None:
    if at > clock.now() + timedelta(minutes=5):
        raise invalid([{"name": name, "reason": "Not in the future."}])


async def record(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    region: RegionConfig,
    *,
    scope: str,
    given: bool,
    obtained_at: datetime,
    method: str,
    note: str | None,
    withdraws: uuid.UUID | None = None,
) -> tuple[IntakeBundle, ConsentRecord]:
    """Append one record. A record that takes a standing scope away is a withdrawal and
    has its effects in this same transaction."""
    _check_moment(obtained_at, "obtainedAt" if withdraws is None else "at")
    change, status = await workflow.begin(db, principal, intake_id, None, Step.RECORD_CONSENT)
    bundle = change.bundle
    was_standing = scope in standing_scopes(bundle.consents)
    if withdraws is not None:
        target = next((c for c in bundle.consents if c.id == withdraws), None)
        if target is None:
            raise not_found("consent")
        if not target.given or any(c.withdraws_id == target.id for c in bundle.consents):
            raise conflict("This consent was already withdrawn.", "already-withdrawn")
        scope = target.scope
        was_standing = scope in standing_scopes(bundle.consents)
    now = clock.now()
    entry = ConsentRecord(
        id=uuid.uuid4(),
        intake_id=intake_id,
        scope=scope,
        given=given,
        obtained_at=obtained_at,
        method=method,
        recorded_at=now,
        recorded_by_client=principal.client_id,
        recorded_by_organisation=principal.organisation_code,
        withdraws_id=withdraws,
        note=note,
    )
    # Record the withdrawal first so every decision below already sees it.
    db.add(entry)
    bundle.consents.append(entry)
    await db.flush()
    if given or not was_standing:
        await change.commit(status, None, basis=scope)
        return bundle, entry
    revoked: set[uuid.UUID] = set()
    if scope in (Scope.SHARE_WITH_PROGRAMME, Scope.PROCESSING):
        handoffs = await workflow.revoke_live_handoffs(change, "share_withdrawn")
        revoked = {h.organisation_id for h in handoffs}
        if handoffs and status == Status.HANDED_OFF:
            status = Status.ASSESSED
            change.intake.decided_programme = None
    if scope == Scope.PROCESSING:
        workflow.close_now(change, "consent_withdrawn", region.retention_days, erase_at_once=True)
        status = Status.CLOSED
    await emit(
        db,
        "consent.withdrawn",
        thin_data(bundle, scope=scope),
        intake_id=intake_id,
        region=change.intake.region,
        audience=bundle.audience(frozenset(revoked)),
    )
    if scope == Scope.PROCESSING:
        await change.commit(status, "intake.closed", extra={"closeReason": "consent_withdrawn"}, basis=scope)
    else:
        await change.commit(status, None, basis=scope)
    return bundle, entry


async def record_meldcode(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID, justification: str
) -> IntakeBundle:
    """Staff record later that the meldcode (meldrecht, art. 5.2.6 Wmo 2015) applies."""
    change, status = await workflow.begin(db, principal, intake_id, None, Step.RECORD_CONSENT)
    intake = change.intake
    if not intake.safety_concern:
        raise invalid([{"name": "safetyConcern", "reason": "The meldcode basis applies only with a safety concern."}])
    intake.legal_basis = "meldcode"
    intake.basis_justification = justification
    return await change.commit(status, None, basis="meldcode")
