"""The intake actions: each loads the intake under a row lock, checks `If-Match` and the
lifecycle, changes it, meets deadlines, and writes its event and audit row in the same
transaction. The HTTP layer (actions.py, handoffs/api.py) only parses and presents."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.auth.principal import Principal
from app.consent.rules import Action
from app.deadlines import service as deadlines
from app.handoffs.lifecycle import EVENTS, HandoffStep, RevokeReason, Stage, intake_stage, next_state, revocable
from app.handoffs.models import Handoff
from app.http.problems import Problem, conflict, invalid
from app.http.problems import not_in_future as _not_future
from app.intakes.events import ClosedData, ContactedData, HandoffRevokedData, IntakeEventData, MergedData
from app.intakes.lifecycle import IllegalTransition, Status, Step, derive_status, next_status
from app.intakes.models import Assessment, Contact, Intake, Reopening
from app.intakes.service import (
    IntakeBundle,
    _z,
    deadline_facts,
    routing_facts,
    thin_data,
    visible_bundle,
)
from app.intakes.snapshot import refresh_facts
from app.regions.config import RegionConfig
from app.routing.catalogue import catalogue_for
from app.routing.models import Programme
from app.routing.router import Router
from app.routing.router import recommend as route
from app.routing.vulnerability import vulnerability
from app.vocab import CloseReason, EventType
from app.webhooks.outbox import emit


def precondition_failed() -> Problem:
    return Problem(412, "Precondition Failed", "The intake changed since you read it; GET it again.", "stale")


def check_if_match(intake: Intake, if_match: str | None) -> None:
    """`If-Match` is optional; when sent it must name the current version (or be `*`)."""
    if if_match is None:
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if "*" in tags or f'"{intake.version}"' in tags:
        return
    raise precondition_failed()


def illegal(exc: IllegalTransition) -> Problem:
    return conflict(str(exc), "illegal-transition")


def advance(bundle: IntakeBundle, step: Step) -> Status:
    try:
        return next_status(bundle.intake.status, step)
    except IllegalTransition as exc:
        raise illegal(exc) from None


@dataclass
class Change:
    """One action on one intake, from lock to event."""

    db: AsyncSession
    principal: Principal
    bundle: IntakeBundle

    @property
    def intake(self) -> Intake:
        return self.bundle.intake

    async def commit(
        self,
        status: Status | None,
        event: EventType | None,
        *,
        data: type[IntakeEventData] = IntakeEventData,
        extra: dict[str, Any] | None = None,
        audience_extra: frozenset[uuid.UUID] = frozenset(),
        basis: str | None = None,
        handoff: Handoff | None = None,
    ) -> IntakeBundle:
        """Write the change: status, version, deadlines, statistics facts, the event (about
        `handoff` when given: then among programmes only its organisation hears it; its data
        a `data` with the fields `extra` gives, app.intakes.events) and the
        audit row, all in the caller's transaction."""
        intake = self.intake
        if status is not None:
            intake.status = status.value
        intake.version += 1
        intake.next_deadline_at = deadlines.next_due(self.bundle.deadlines) if intake.closed_at is None else None
        await self.db.flush()
        # The coded facts statistics keep, in the same transaction as the change.
        await refresh_facts(self.db, self.bundle)
        if event:
            await emit(
                self.db,
                event,
                thin_data(self.bundle, data, **(extra or {})),
                intake_id=intake.id,
                region=intake.region,
                audience=self.bundle.audience(audience_extra, handoff_id=handoff.id if handoff else None),
            )
        await audit.record(self.db, self.principal, "update", [(intake.id, basis or self.bundle.access_basis())])
        return self.bundle


async def begin(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID, if_match: str | None, step: Step
) -> tuple[Change, Status]:
    bundle = await visible_bundle(db, principal, intake_id, for_update=True)
    check_if_match(bundle.intake, if_match)
    return Change(db, principal, bundle), advance(bundle, step)


async def add_contact(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    *,
    at: datetime,
    channel: str,
    reached: bool,
    note: str | None,
) -> IntakeBundle:
    _not_future(at, "at")
    change, status = await begin(
        db, principal, intake_id, if_match, Step.CONTACT_REACHED if reached else Step.CONTACT_ATTEMPT
    )
    now = clock.now()
    db.add(
        Contact(
            id=uuid.uuid4(),
            intake_id=intake_id,
            at=at,
            channel=channel,
            reached=reached,
            note=note,
            recorded_by=principal.client_id,
            recorded_at=now,
        )
    )
    if reached:
        deadlines.meet(change.bundle.deadlines, "response", at)
    return await change.commit(
        status, EventType.INTAKE_CONTACTED if reached else None, data=ContactedData, extra={"reached": reached}
    )


def recompute_deadlines(bundle: IntakeBundle, region: RegionConfig, reason: str | None) -> None:
    """With the region's policy version in force when the intake was received (or last
    reopened: its fresh deadlines count from then)."""
    start = bundle.intake.reopened_at or bundle.intake.received_at
    deadlines.recompute(bundle.deadlines, start, deadline_facts(bundle.intake), region.at(start), reason)


async def assess(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    region: RegionConfig,
    *,
    visited_at: datetime,
    location: str,
    concerns: list[str],
    safety_concern: bool,
    notes: str | None,
) -> IntakeBundle:
    _not_future(visited_at, "visitedAt")
    change, status = await begin(db, principal, intake_id, if_match, Step.ASSESS)
    intake = change.intake
    known = {c["code"] for c in intake.concerns}
    found = [code for code in dict.fromkeys(concerns) if code not in known]
    intake.concerns = [*intake.concerns, *({"code": code, "source": "assessment"} for code in found)]
    intake.safety_concern = intake.safety_concern or safety_concern
    intake.vulnerability = vulnerability([c["code"] for c in intake.concerns], intake.safety_concern)
    db.add(
        Assessment(
            id=uuid.uuid4(),
            intake_id=intake_id,
            visited_at=visited_at,
            location=location,
            concerns=list(dict.fromkeys(concerns)),
            safety_concern=safety_concern,
            notes=notes,
            recorded_by=principal.client_id,
            recorded_at=clock.now(),
        )
    )
    # A safety concern found at home only tightens deadlines; no reason needed.
    recompute_deadlines(change.bundle, region, None)
    deadlines.meet(change.bundle.deadlines, "intake", visited_at)
    return await change.commit(status, EventType.INTAKE_ASSESSED)


async def correct_facts(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    region: RegionConfig,
    *,
    pregnancy: dict[str, Any] | None,
    safety_concern: bool | None,
    reason: str | None,
) -> IntakeBundle:
    """New facts (due date corrected, safety concern) recompute the open deadlines; moving a
    deadline later needs `reason`, which is stored with it."""
    change, status = await begin(db, principal, intake_id, if_match, Step.CORRECT_FACTS)
    intake = change.intake
    if pregnancy is not None:
        intake.pregnancy = pregnancy
    if safety_concern is not None:
        intake.safety_concern = safety_concern
    intake.vulnerability = vulnerability([c["code"] for c in intake.concerns], intake.safety_concern)
    recompute_deadlines(change.bundle, region, reason)
    return await change.commit(status, None)


async def recommend(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    router: Router,
    region: RegionConfig,
) -> IntakeBundle:
    change, status = await begin(db, principal, intake_id, if_match, Step.RECOMMEND)
    intake = change.intake
    now = clock.now()
    catalogue = await catalogue_for(db, intake.region)
    result = route(
        router,
        routing_facts(intake),
        catalogue,
        now.astimezone(clock.AMSTERDAM).date(),
        frozenset(intake.excluded_programmes),
        region,
    )
    previous = intake.routing or {}
    intake.routing = {
        "recommendation": result.as_json(),
        "recommendedAt": _z(now),
        "recommendedBy": principal.client_id,
        "decision": previous.get("decision"),
    }
    # A recommendation changes nothing outside the aanmeldpunt, so it sends no event.
    return await change.commit(status, None)


async def decide(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    *,
    programme: str,
    reason: str | None,
) -> IntakeBundle:
    change, status = await begin(db, principal, intake_id, if_match, Step.DECIDE)
    intake = change.intake
    entry = await db.scalar(select(Programme).where(Programme.region == intake.region, Programme.code == programme))
    if entry is None:
        raise invalid([{"name": "programme", "reason": f"No programme '{programme}' in this region."}])
    if programme in intake.excluded_programmes:
        raise conflict(f"'{programme}' declined this intake before; choose another programme.", "programme-excluded")
    if not entry.accepting_clients:
        raise conflict(f"'{programme}' is not accepting clients at the moment.", "programme-full")
    recommended = ((intake.routing or {}).get("recommendation") or {}).get("programme")
    override = programme != recommended
    if override and not (reason and reason.strip()):
        raise invalid([{"name": "reason", "reason": "Choosing another programme than recommended needs a reason."}])
    now = clock.now()
    intake.decided_programme = programme
    intake.routing = {
        **(intake.routing or {}),
        "decision": {
            "programme": programme,
            "override": override,
            "reason": reason,
            "decidedBy": principal.client_id,
            "decidedAt": _z(now),
        },
    }
    return await change.commit(status, EventType.INTAKE_ROUTED)


async def revoke_live_handoffs(change: Change, reason: RevokeReason) -> list[Handoff]:
    """End live handoffs at once, as the handoffs' machine decides for this reason (consent
    withdrawn: all; intake closed: those not started), and set the intake's status from what
    is left. The organisation's read access ends with it; each hears `handoff.revoked` once.
    (Closing, merging and consent withdrawal call it; the handoff's own steps are in
    app.intakes.handoffs.)"""
    now = clock.now()
    revoked = [h for h in change.bundle.handoffs if revocable(h.status, reason)]
    for handoff in revoked:
        handoff.status, handoff.revoked_at = next_state(handoff.status, HandoffStep.REVOKE), now
    if revoked:
        intake = change.intake
        intake.status = derive_status(intake.status, intake_stage(change.bundle.episode_handoffs))
        if intake_stage(change.bundle.episode_handoffs) is Stage.NONE:
            intake.decided_programme = None  # back to the aanmeldpunt to route again
    await change.db.flush()
    for handoff in revoked:
        await emit(
            change.db,
            EVENTS[HandoffStep.REVOKE],
            thin_data(
                change.bundle, HandoffRevokedData, handoff_id=handoff.id, programme=handoff.programme, reason=reason
            ),
            intake_id=change.intake.id,
            region=change.intake.region,
            audience=change.bundle.audience(frozenset({handoff.organisation_id}), handoff_id=handoff.id),
        )
    return revoked


def close_now(change: Change, reason: str, region_retention_days: int, *, erase_at_once: bool = False) -> None:
    intake = change.intake
    now = clock.now()
    intake.close_reason = reason
    intake.closed_at = now
    intake.erase_after = now if erase_at_once else now + timedelta(days=region_retention_days)
    for deadline in change.bundle.deadlines:
        if deadline.met_at is None and deadline.cancelled_at is None:
            deadline.cancelled_at = now


async def close(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    region: RegionConfig,
    *,
    reason: str,
    note: str | None,
) -> IntakeBundle:
    change, status = await begin(db, principal, intake_id, if_match, Step.CLOSE)
    if reason == CloseReason.SUPPORT_STARTED and change.intake.status != Status.SUPPORT_STARTED:
        raise conflict("Close with 'support_started' only after support has started.", "illegal-transition")
    await revoke_live_handoffs(change, RevokeReason.INTAKE_CLOSED)
    close_now(change, reason, region.retention_days)
    change.intake.routing = {**(change.intake.routing or {}), "closeNote": note}
    return await change.commit(status, EventType.INTAKE_CLOSED, data=ClosedData, extra={"close_reason": reason})


async def merge(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    region: RegionConfig,
    *,
    into: uuid.UUID,
) -> IntakeBundle:
    """Close `intake_id` as a duplicate of `into`, carrying its signals over: concerns,
    safety concern, the referrer's narrative. Locks both rows in id order (no deadlock)."""
    if into == intake_id:
        raise invalid([{"name": "into", "reason": "An intake cannot be merged into itself."}])
    # The intake acted on answers 404 first, whichever way the ids sort (then both are locked in order).
    await visible_bundle(db, principal, intake_id)
    first, second = sorted([intake_id, into])
    locked = {}
    for each in (first, second):
        try:
            locked[each] = await visible_bundle(db, principal, each, for_update=True)
        except Problem:
            if each == into:
                raise invalid([{"name": "into", "reason": "No open intake with this id."}]) from None
            raise
    source, target = locked[intake_id], locked[into]
    check_if_match(source.intake, if_match)
    status = advance(source, Step.MERGE)
    if target.intake.closed_at is not None:
        raise invalid([{"name": "into", "reason": "No open intake with this id."}])
    change_source = Change(db, principal, source)
    change_target = Change(db, principal, target)
    kept, moved = target.intake, source.intake
    known = {c["code"] for c in kept.concerns}
    kept.concerns = [*kept.concerns, *(c for c in moved.concerns if c["code"] not in known)]
    kept.safety_concern = kept.safety_concern or moved.safety_concern
    kept.vulnerability = vulnerability([c["code"] for c in kept.concerns], kept.safety_concern)
    if moved.narrative:
        signal = f"[Samengevoegd uit {moved.reference}] {moved.narrative}"
        kept.narrative = f"{kept.narrative}\n\n{signal}" if kept.narrative else signal
    kept.possible_duplicates = [d for d in kept.possible_duplicates if d != moved.id]
    moved.merged_into = kept.id
    # Referrals merged into this one before follow the case it now joins (one hop, always).
    await db.execute(update(Intake).where(Intake.merged_into == moved.id).values(merged_into=kept.id))
    if moved.referrer_organisation_id is not None:
        target.merged_referrers = target.merged_referrers | {moved.referrer_organisation_id}
    recompute_deadlines(target, region, None)
    await revoke_live_handoffs(change_source, RevokeReason.INTAKE_CLOSED)
    close_now(change_source, "duplicate", region.retention_days)
    await change_target.commit(None, None)
    return await change_source.commit(
        status,
        EventType.INTAKE_CLOSED,
        data=MergedData,
        extra={"close_reason": CloseReason.DUPLICATE, "merged_into": into},
    )


async def reopen(
    db: AsyncSession,
    principal: Principal,
    intake_id: uuid.UUID,
    if_match: str | None,
    region: RegionConfig,
    *,
    reason: str,
) -> IntakeBundle:
    """Aftercare: a closed intake whose personal data is kept is taken up again. Status
    `contacted`, fresh deadlines from now with the facts as they are now (the response
    deadline met at once: staff are in contact with her), event `intake.reopened`."""
    bundle = await visible_bundle(db, principal, intake_id, for_update=True)
    intake = bundle.intake
    check_if_match(intake, if_match)
    if intake.erased_at is not None:
        raise conflict("Her personal data is erased; register her again instead.", "erased")
    status = advance(bundle, Step.REOPEN)
    if intake.merged_into is not None:
        raise conflict("This intake was merged into another; reopen that one.", "merged")
    if not bundle.decide(Action.PROCESS):
        raise Problem(
            409,
            "Consent required",
            "Reopening needs standing 'processing' consent (or the meldcode basis).",
            "consent-required",
        )
    now = clock.now()
    db.add(
        Reopening(
            id=uuid.uuid4(),
            intake_id=intake.id,
            at=now,
            reason=reason,
            previous_close_reason=intake.close_reason,
            reopened_by=principal.client_id,
        )
    )
    intake.closed_at = intake.close_reason = intake.erase_after = None
    intake.reopened_at = now
    fresh = deadlines.create(intake.id, now, deadline_facts(intake), region.at(now))
    deadlines.meet(fresh, "response", now)
    db.add_all(fresh)
    bundle.deadlines.extend(fresh)
    await db.flush()
    return await Change(db, principal, bundle).commit(status, EventType.INTAKE_REOPENED)
