"""Recording consent and its withdrawal on an intake, with the effects a withdrawal has at once
(live handoffs revoked, the intake closed), and the meldcode legal basis: intake changes in
one transaction (app.intakes.workflow). The rules and tables they apply are consent's own
(app.consent.rules, app.consent.models), below intakes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.auth.principal import Principal
from app.consent.models import ConsentRecord, LegalBasisRecord
from app.consent.rules import (
    LegalBasisSource,
    LegalBasisStatus,
    Person,
    Scope,
    confirm_refusal,
    standing_scopes,
)
from app.handoffs.lifecycle import RevokeReason
from app.http.problems import Problem, conflict, invalid, not_found, not_in_future
from app.intakes import workflow
from app.intakes.events import ClosedData, ConsentWithdrawnData, LegalBasisData
from app.intakes.lifecycle import Status, Step
from app.intakes.service import IntakeBundle, thin_data
from app.regions.config import RegionConfig
from app.vocab import CloseReason, EventType
from app.webhooks.outbox import emit


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
    not_in_future(obtained_at, "obtainedAt" if withdraws is None else "at")
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
        # Every live handoff ends, each programme's own machine (app.handoffs.lifecycle);
        # the intake's status follows from what is left.
        handoffs = await workflow.revoke_live_handoffs(change, RevokeReason.SHARE_WITHDRAWN)
        revoked = {h.organisation_id for h in handoffs}
        status = Status(change.intake.status)
    if scope == Scope.PROCESSING:
        workflow.close_now(change, "consent_withdrawn", region.retention_days, erase_at_once=True)
        status = Status.CLOSED
    await emit(
        db,
        EventType.CONSENT_WITHDRAWN,
        thin_data(bundle, ConsentWithdrawnData, scope=scope),
        intake_id=intake_id,
        region=change.intake.region,
        audience=bundle.audience(frozenset(revoked)),
    )
    if scope == Scope.PROCESSING:
        await change.commit(
            status,
            EventType.INTAKE_CLOSED,
            data=ClosedData,
            extra={"close_reason": CloseReason.CONSENT_WITHDRAWN},
            basis=scope,
        )
    else:
        await change.commit(status, None, basis=scope)
    return bundle, entry


def _person(client: str, user: str | None) -> Person:
    return Person(client, user)


async def request_legal_basis(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    *,
    basis: str,
    justification: str,
) -> tuple[IntakeBundle, LegalBasisRecord]:
    """One staff user records that the meldcode (meldrecht, art. 5.2.6 Wmo 2015) applies. It
    stays `pending`, and overrides no consent, until a second staff user confirms it."""
    change, status = await workflow.begin(db, principal, intake_id, if_match, Step.RECORD_CONSENT)
    intake = change.intake
    if not intake.safety_concern:
        raise invalid([{"name": "safetyConcern", "reason": "The meldcode basis applies only with a safety concern."}])
    if intake.legal_basis == basis:
        raise conflict("The meldcode basis already applies to this intake.", "legal-basis-applies")
    waiting = await db.scalar(
        select(LegalBasisRecord.id).where(
            LegalBasisRecord.intake_id == intake_id, LegalBasisRecord.status == LegalBasisStatus.PENDING
        )
    )
    if waiting is not None:
        raise conflict(
            f"A meldcode request ({waiting}) is waiting for a second staff user already; confirm that one.",
            "legal-basis-pending",
        )
    entry = LegalBasisRecord(
        id=uuid.uuid4(),
        intake_id=intake_id,
        basis=basis,
        source=LegalBasisSource.STAFF,
        status=LegalBasisStatus.PENDING,
        justification=justification,
        requested_at=clock.now(),
        requested_by_client=principal.client_id,
        requested_by_user=principal.user,
        requested_by_organisation=principal.organisation_code,
    )
    db.add(entry)
    await db.flush()
    await emit(
        db,
        EventType.INTAKE_LEGAL_BASIS_REQUESTED,
        thin_data(change.bundle, LegalBasisData, legal_basis_id=entry.id, basis=basis, legal_basis_status=entry.status),
        intake_id=intake_id,
        region=intake.region,
        audience=change.bundle.audience(),
        only_organisation_kind="aanmeldpunt",
    )
    await change.commit(status, None)
    return change.bundle, entry


async def confirm_legal_basis(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID, legal_basis_id: uuid.UUID, if_match: str | None
) -> tuple[IntakeBundle, LegalBasisRecord]:
    """A second, different staff user confirms: only now does the meldcode override a
    missing or withdrawn consent. The intake's row lock serialises competing confirmations."""
    change, status = await workflow.begin(db, principal, intake_id, if_match, Step.RECORD_CONSENT)
    intake = change.intake
    entry = await db.scalar(
        select(LegalBasisRecord)
        .where(LegalBasisRecord.id == legal_basis_id, LegalBasisRecord.intake_id == intake_id)
        .with_for_update()
    )
    if entry is None:
        raise not_found("legal basis")
    refusal = confirm_refusal(
        entry.status,
        _person(entry.requested_by_client, entry.requested_by_user),
        _person(principal.client_id, principal.user),
    )
    if refusal == "already-confirmed":
        raise conflict("This legal basis was confirmed already.", "already-confirmed")
    if refusal == "four-eyes":
        raise Problem(
            409,
            "Four eyes required",
            "The meldcode basis must be confirmed by another staff user than the one who recorded it.",
            "four-eyes-required",
        )
    if not intake.safety_concern:
        raise conflict("The meldcode basis applies only with a safety concern.", "safety-concern-required")
    entry.status = LegalBasisStatus.CONFIRMED
    entry.confirmed_at = clock.now()
    entry.confirmed_by_client = principal.client_id
    entry.confirmed_by_user = principal.user
    entry.confirmed_by_organisation = principal.organisation_code
    intake.legal_basis = entry.basis
    intake.basis_justification = entry.justification
    await db.flush()
    await emit(
        db,
        EventType.INTAKE_LEGAL_BASIS_CHANGED,
        thin_data(
            change.bundle, LegalBasisData, legal_basis_id=entry.id, basis=entry.basis, legal_basis_status=entry.status
        ),
        intake_id=intake_id,
        region=intake.region,
        audience=change.bundle.audience(),
        only_organisation_kind="aanmeldpunt",
    )
    await change.commit(status, None, basis=entry.basis)
    return change.bundle, entry


async def legal_bases(db: AsyncSession, intake_id: uuid.UUID) -> list[LegalBasisRecord]:
    rows = await db.scalars(
        select(LegalBasisRecord).where(LegalBasisRecord.intake_id == intake_id).order_by(LegalBasisRecord.requested_at)
    )
    return list(rows.all())
