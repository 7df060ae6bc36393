"""Retention: erase the personal data of intakes whose `erase_after` has passed (closed for
the region's retention period, or at once after consent_withdrawn). What remains is
anonymous: status, concern codes, programme, deadline outcomes, dates rounded to the week.
Audit rows are not touched (kept at least 5 years; they hold no personal data themselves)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.consent.models import ConsentRecord
from app.handoffs.models import Handoff
from app.intakes.models import Assessment, Contact, Intake

BATCH = 200


def start_of_week(moment: datetime) -> datetime:
    local = moment.astimezone(clock.AMSTERDAM)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday


async def erase_due(db: AsyncSession, now: datetime) -> int:
    """One batch; the caller commits. Rows are claimed with SKIP LOCKED so workers share the work."""
    intakes = list(
        (
            await db.scalars(
                select(Intake)
                .where(Intake.erase_after <= now, Intake.erased_at.is_(None))
                .order_by(Intake.erase_after)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    for intake in intakes:
        intake.client = None
        intake.narrative = None
        intake.message = None
        intake.referrer = None
        intake.contact_preference = None
        intake.basis_justification = None
        intake.pregnancy = {"pregnant": bool(intake.pregnancy.get("pregnant"))}
        intake.children = []
        intake.bsn = intake.birth_date = intake.family_name_key = intake.postcode = intake.phone = None
        intake.received_at = start_of_week(intake.received_at)
        routing = dict(intake.routing or {})
        routing.pop("closeNote", None)
        if routing.get("decision"):
            routing["decision"] = {**routing["decision"], "reason": None}
        intake.routing = routing
        intake.erased_at = now
        intake.version += 1
    ids = [i.id for i in intakes]
    if ids:
        await db.execute(update(Contact).where(Contact.intake_id.in_(ids)).values(note=None))
        await db.execute(update(Assessment).where(Assessment.intake_id.in_(ids)).values(notes=None))
        await db.execute(update(ConsentRecord).where(ConsentRecord.intake_id.in_(ids)).values(note=None))
        await db.execute(update(Handoff).where(Handoff.intake_id.in_(ids)).values(decline_reason=None))
        await audit.record(db, audit.SYSTEM, "erase", [(i, "retention") for i in ids])
    await db.flush()
    return len(ids)
