"""Intakes: receive, find what a caller may see, and present it. Services only flush; the
request's transaction boundary (app.db.get_db) commits."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.auth.models import Organisation
from app.auth.principal import Principal
from app.consent import audience as audience_rule
from app.consent.models import ConsentRecord, LegalBasisRecord
from app.consent.rules import Action, LegalBasis, LegalBasisSource, LegalBasisStatus, decide
from app.db import insert_new
from app.deadlines import service as deadlines
from app.deadlines.models import Deadline
from app.deadlines.policy import Facts, days_pregnant_fmt
from app.handoffs.lifecycle import is_live
from app.handoffs.models import Handoff
from app.handoffs.schemas import handoff_out
from app.handoffs.states import LIVE
from app.http.problems import not_found
from app.intakes.events import EventDeadline, IntakeEventData
from app.intakes.models import Intake
from app.intakes.schemas import ConcernOut, ConsentOut, DeadlineOut, IntakeView, ReferralIn, SelfRegistrationIn
from app.intakes.snapshot import facts_at_receipt
from app.names import match_key
from app.regions.config import RegionConfig
from app.routing.catalogue import catalogue_for
from app.routing.router import Router, RoutingFacts, recommend
from app.routing.vulnerability import DOMAIN_OF, vulnerability
from app.vocab import ConcernSource, EventType, IntakeSource
from app.webhooks.outbox import Audience, emit

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LIVE_HANDOFF = LIVE  # app.handoffs.states
D = TypeVar("D", bound=IntakeEventData)


def new_reference() -> str:
    return "AMP-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


@dataclass
class IntakeBundle:
    intake: Intake
    consents: list[ConsentRecord]
    deadlines: list[Deadline]
    handoffs: list[Handoff]
    # Organisations whose referrals were merged into this intake (they follow it).
    merged_referrers: frozenset[uuid.UUID] = frozenset()

    @property
    def episode_handoffs(self) -> list[Handoff]:
        """The handoffs that decide the intake's status now: after a reopening (aftercare),
        those offered since, and any still live; the earlier episode's ended, declined or
        revoked ones are history (her support then does not make the new one 'started')."""
        since = self.intake.reopened_at
        if since is None:
            return self.handoffs
        return [h for h in self.handoffs if h.offered_at >= since or is_live(h.status)]

    def decide(self, action: Action) -> Any:
        return decide(self.consents, action, self.intake.legal_basis)

    def audience(self, extra: frozenset[uuid.UUID] = frozenset(), *, handoff_id: object = None) -> Audience:
        """Who may hear about (or read) this intake. For an event about one handoff
        (`handoff_id`, as in its data's `handoffId`), the only programme among them is that
        handoff's organisation: programmes never hear of each other's handoffs."""
        live = [h for h in self.handoffs if is_live(h.status)]
        if handoff_id is not None:
            live = [h for h in live if str(h.id) == str(handoff_id)]
        return Audience(
            referrer_organisation_id=self.intake.referrer_organisation_id,
            legal_basis=self.intake.legal_basis,
            consents=self.consents,
            handoff_organisations=frozenset(h.organisation_id for h in live),
            extra_organisations=extra,
            closed=self.intake.closed_at is not None,
            merged_referrers=self.merged_referrers,
        )

    def decide_basis_for_programme(self) -> str:
        return str(self.decide(Action.PROGRAMME_READ).basis)

    def access_basis(self) -> str:
        decision = self.decide(Action.PROCESS)
        return decision.basis if decision else "none"


def routing_facts(intake: Intake) -> RoutingFacts:
    client = intake.client or {}
    address = client.get("address") or {}
    return RoutingFacts(
        birth_date=date.fromisoformat(client["birthDate"]) if client.get("birthDate") else None,
        pregnant=bool(intake.pregnancy.get("pregnant")),
        due_date=date.fromisoformat(intake.pregnancy["dueDate"]) if intake.pregnancy.get("dueDate") else None,
        first_child=intake.pregnancy.get("firstChild"),
        children_birth_dates=tuple(date.fromisoformat(c["birthDate"]) for c in intake.children),
        concerns=tuple(c["code"] for c in intake.concerns),
        safety_concern=intake.safety_concern,
        postcode=address.get("postcode"),
        city=address.get("city"),
    )


def deadline_facts(intake: Intake) -> Facts:
    due = intake.pregnancy.get("dueDate")
    return Facts(
        pregnant=bool(intake.pregnancy.get("pregnant")),
        due_date=date.fromisoformat(due) if due else None,
        safety_concern=intake.safety_concern,
    )


def thin_data(bundle: IntakeBundle, model: type[D], **extra: Any) -> D:
    """An event's data (app.intakes.events): ids, status, programme, deadlines, and `extra`,
    the fields `model` adds (or sets: a handoff's event names its own `programme`), validated
    by it. Never names, BSN, contact or free text."""
    intake = bundle.intake
    now = clock.now()
    common: dict[str, Any] = {
        "intake_id": intake.id,
        "reference": intake.reference,
        "status": intake.status,
        "programme": intake.decided_programme,
        "next_deadline_at": intake.next_deadline_at,
        "deadlines": [
            EventDeadline(phase=d.phase, due_at=d.due_at, state=deadlines.state_of(d, now))
            for d in bundle.deadlines
            if d.cancelled_at is None
        ],
    }
    return model(**(common | extra))


async def own_programmes(db: AsyncSession, intake_id: uuid.UUID, organisation_id: uuid.UUID) -> frozenset[str]:
    """The programmes of the organisation's handoffs of this intake, in any state."""
    query = select(Handoff.programme).where(Handoff.intake_id == intake_id, Handoff.organisation_id == organisation_id)
    return frozenset((await db.scalars(query)).all())


def _z(moment: datetime | None) -> str | None:
    return clock.iso_z(moment) if moment else None


def _same_woman(intake: Intake) -> list[Any]:
    """The matching of possible duplicates and returns: same BSN; or same birth date and
    family name with the same postcode or phone."""
    conditions: list[Any] = []
    if intake.bsn:
        conditions.append(Intake.bsn == intake.bsn)
    if intake.birth_date and intake.family_name_key and (intake.postcode or intake.phone):
        same_contact = []
        if intake.postcode:
            same_contact.append(Intake.postcode == intake.postcode)
        if intake.phone:
            same_contact.append(Intake.phone == intake.phone)
        conditions.append(
            and_(
                Intake.birth_date == intake.birth_date,
                Intake.family_name_key == intake.family_name_key,
                or_(*same_contact),
            )
        )
    return conditions


async def _her_intakes(db: AsyncSession, intake: Intake, *which: Any) -> list[uuid.UUID]:
    """Other intakes of the same woman in the intake's region that meet `which`, oldest first."""
    conditions = _same_woman(intake)
    if not conditions:
        return []
    query = select(Intake.id).where(*which, Intake.region == intake.region, Intake.id != intake.id, or_(*conditions))
    return list((await db.scalars(query.order_by(Intake.received_at).limit(20))).all())


async def find_duplicates(db: AsyncSession, intake: Intake) -> list[uuid.UUID]:
    """Open intakes of the same woman."""
    return await _her_intakes(db, intake, Intake.closed_at.is_(None))


async def find_previous(db: AsyncSession, intake: Intake) -> list[uuid.UUID]:
    """Her closed intakes whose personal data is kept (she comes back), oldest first."""
    return await _her_intakes(
        db,
        intake,
        Intake.closed_at.is_not(None),
        Intake.erased_at.is_(None),
        Intake.merged_into.is_(None),  # a merged one's history is in the case it was merged into
    )


async def receive(
    db: AsyncSession,
    body: ReferralIn | SelfRegistrationIn,
    *,
    principal: Principal | None,
    region: RegionConfig,
    router: Router,
) -> IntakeBundle:
    """Store a referral or self-registration with its consents, deadlines, routing
    recommendation, possible-duplicate links, outbox event and audit row: one transaction."""
    now = clock.now()
    is_referral = isinstance(body, ReferralIn)
    source = IntakeSource.REFERRAL if is_referral else IntakeSource.SELF_REGISTRATION
    client = body.client.model_dump(mode="json", by_alias=True, exclude_none=True)
    concern_source = ConcernSource.REFERRAL if is_referral else ConcernSource.SELF
    concerns = [{"code": str(c), "source": concern_source} for c in dict.fromkeys(body.concerns)]
    safety = body.safety_concern if isinstance(body, ReferralIn) else False
    address = body.client.address
    intake = Intake(
        id=uuid.uuid4(),
        reference=new_reference(),
        region=region.region,
        status="received",
        source=source,
        referrer_organisation_id=principal.organisation_id if principal else None,
        received_at=now,
        client=client,
        pregnancy=body.pregnancy.model_dump(mode="json", by_alias=True, exclude_none=True),
        children=[c.model_dump(mode="json", by_alias=True) for c in body.children],
        concerns=concerns,
        safety_concern=safety,
        narrative=body.narrative if isinstance(body, ReferralIn) else None,
        message=body.message if isinstance(body, SelfRegistrationIn) else None,
        contact_preference=body.contact_preference if isinstance(body, SelfRegistrationIn) else None,
        referrer=body.referrer.model_dump(mode="json", by_alias=True, exclude_none=True)
        if isinstance(body, ReferralIn)
        else None,
        legal_basis=body.legal_basis if isinstance(body, ReferralIn) else "consent",
        basis_justification=body.justification if isinstance(body, ReferralIn) else None,
        vulnerability=vulnerability([c["code"] for c in concerns], safety),
        excluded_programmes=[],
        possible_duplicates=[],
        previous_intakes=[],
        later_intakes=[],
        partner=body.partner.model_dump(mode="json", by_alias=True, exclude_none=True) if body.partner else None,
        version=1,
        created_by_client=principal.client_id if principal else "self-registration",
        bsn=getattr(body.client, "bsn", None),
        birth_date=body.client.birth_date,
        family_name_key=match_key(body.client.family_name),
        postcode=address.postcode.replace(" ", "") if address and address.postcode else None,
        phone=client.get("phone"),
    )
    consent = body.consent
    consents = (
        [
            ConsentRecord(
                id=uuid.uuid4(),
                intake_id=intake.id,
                scope=scope,
                given=True,
                obtained_at=consent.obtained_at or now,
                method=consent.method if is_referral else "digital",
                recorded_at=now,
                recorded_by_client=principal.client_id if principal else "self-registration",
                recorded_by_organisation=principal.organisation_code if principal else "self",
            )
            for scope in dict.fromkeys(consent.scopes)
        ]
        if consent.client_consented
        else []
    )
    due = deadlines.create(intake.id, now, deadline_facts(intake), region)
    intake.next_deadline_at = deadlines.next_due(due)
    catalogue = await catalogue_for(db, region.region)
    recommendation = recommend(
        router, routing_facts(intake), catalogue, now.astimezone(clock.AMSTERDAM).date(), frozenset(), region
    )
    intake.routing = {"recommendation": recommendation.as_json(), "recommendedAt": _z(now), "decision": None}
    duplicates = await find_duplicates(db, intake)
    intake.possible_duplicates = duplicates
    previous = await find_previous(db, intake)
    intake.previous_intakes = previous
    bases = (
        [
            LegalBasisRecord(
                id=uuid.uuid4(),
                intake_id=intake.id,
                basis=intake.legal_basis,
                source=LegalBasisSource.REFERRAL,
                status=LegalBasisStatus.CONFIRMED,
                justification=intake.basis_justification,
                requested_at=now,
                requested_by_client=principal.client_id,
                requested_by_user=principal.user,
                requested_by_organisation=principal.organisation_code,
                confirmed_at=now,
            )
        ]
        if principal is not None and intake.legal_basis != LegalBasis.CONSENT
        else []
    )
    # The referrer's own meldcode referral is its professional's decision and applies at once;
    # it is stored as a confirmed row so the case file shows it next to staff requests.
    await insert_new(db, [intake], consents, due, bases)
    if duplicates or previous:
        # Lock the other intakes in id order, so two referrals of the same woman arriving
        # together cannot deadlock on each other's rows. Links go both ways.
        linked = sorted({*duplicates, *previous})
        others = select(Intake).where(Intake.id.in_(linked)).order_by(Intake.id).with_for_update()
        for other in (await db.scalars(others)).all():
            if other.id in duplicates:
                other.possible_duplicates = [*other.possible_duplicates, intake.id]
            if other.id in previous:
                other.later_intakes = [*other.later_intakes, intake.id]
        await db.flush()
    bundle = IntakeBundle(intake, consents, due, [])
    await insert_new(db, [facts_at_receipt(bundle)])
    await emit(
        db,
        EventType.INTAKE_RECEIVED,
        thin_data(bundle, IntakeEventData),
        intake_id=intake.id,
        region=intake.region,
        audience=bundle.audience(),
    )
    actor = principal or audit.Actor("self-registration", "self")
    await audit.record(db, actor, "create", [(intake.id, bundle.access_basis())])
    return bundle


async def load_bundle(db: AsyncSession, intake_id: uuid.UUID, *, for_update: bool = False) -> IntakeBundle | None:
    query = select(Intake).where(Intake.id == intake_id)
    if for_update:
        query = query.with_for_update()
    intake = await db.scalar(query)
    if intake is None:
        return None
    consents = list(
        (
            await db.scalars(
                select(ConsentRecord).where(ConsentRecord.intake_id == intake_id).order_by(ConsentRecord.recorded_at)
            )
        ).all()
    )
    due = await deadlines.load(db, intake_id)
    handoffs = list(
        (await db.scalars(select(Handoff).where(Handoff.intake_id == intake_id).order_by(Handoff.offered_at))).all()
    )
    followers = await db.scalars(
        select(Intake.referrer_organisation_id).where(
            Intake.merged_into == intake_id, Intake.referrer_organisation_id.is_not(None)
        )
    )
    return IntakeBundle(intake, consents, due, handoffs, frozenset(o for o in followers.all() if o is not None))


async def visible_bundle(
    db: AsyncSession, principal: Principal, intake_id: uuid.UUID, *, for_update: bool = False
) -> IntakeBundle:
    """The intake if this caller may see it; otherwise 404, exactly as if it did not exist."""
    bundle = await load_bundle(db, intake_id, for_update=for_update)
    if bundle is None or bundle.intake.region != principal.region:
        raise not_found()
    if principal.is_staff:
        return bundle
    if principal.has("handoffs:write") and programme_may_read(bundle, principal.organisation_id):
        return bundle
    raise not_found()


def programme_may_read(bundle: IntakeBundle, organisation_id: uuid.UUID) -> bool:
    """While its handoff is live, the intake open, and sharing allowed (app.consent.audience)."""
    return audience_rule.programme_may_read(bundle.audience(), organisation_id)


async def organisation_codes(db: AsyncSession, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await db.execute(select(Organisation.id, Organisation.code).where(Organisation.id.in_(wanted)))
    return {row[0]: row[1] for row in rows.all()}


def concern_list(intake: Intake) -> list[ConcernOut]:
    return [
        ConcernOut(code=c["code"], domain=DOMAIN_OF.get(c["code"], "unknown"), source=c["source"])
        for c in intake.concerns
    ]


def staff_view(bundle: IntakeBundle, orgs: dict[uuid.UUID, str]) -> IntakeView:
    """The whole intake, as staff of its region see it (a programme: app.intakes.programme_view).
    `client`, `pregnancy`, `children`, `referrer`, `routing` and `partner` are stored as the
    camelCase documents of their models, and validated into them here."""
    intake = bundle.intake
    now = clock.now()
    pregnancy = dict(intake.pregnancy)
    if pregnancy.get("pregnant") and pregnancy.get("dueDate") and intake.closed_at is None:
        pregnancy["weeksPregnant"] = days_pregnant_fmt(
            date.fromisoformat(pregnancy["dueDate"]), clock.today_local().date()
        )
    return IntakeView(
        id=intake.id,
        reference=intake.reference,
        status=intake.status,
        source=intake.source,
        received_at=intake.received_at,
        referrer_organisation=orgs.get(intake.referrer_organisation_id) if intake.referrer_organisation_id else None,
        legal_basis=intake.legal_basis,
        client=intake.client,
        pregnancy=pregnancy,
        children=intake.children,
        concerns=concern_list(intake),
        safety_concern=intake.safety_concern,
        narrative=intake.narrative,
        message=intake.message,
        contact_preference=intake.contact_preference,
        referrer=intake.referrer,
        vulnerability=intake.vulnerability,
        deadlines=[
            DeadlineOut(
                phase=d.phase,
                due_at=d.due_at,
                met_at=d.met_at,
                state=deadlines.state_of(d, now),
                policy_version=d.policy_version,
            )
            for d in bundle.deadlines
            if d.cancelled_at is None
        ],
        next_deadline_at=intake.next_deadline_at,
        consents=[consent_view(c) for c in bundle.consents],
        routing=intake.routing,
        handoffs=[handoff_out(h, orgs.get(h.organisation_id, ""), for_staff=True) for h in bundle.handoffs],
        possible_duplicates=intake.possible_duplicates,
        partner=intake.partner,
        previous_intakes=intake.previous_intakes,
        later_intakes=intake.later_intakes,
        close_reason=intake.close_reason,
        closed_at=intake.closed_at,
        erased=intake.erased_at is not None,
    )


def consent_view(c: ConsentRecord) -> ConsentOut:
    return ConsentOut(
        id=c.id,
        scope=c.scope,
        given=c.given,
        obtained_at=c.obtained_at,
        method=c.method,
        recorded_at=c.recorded_at,
        recorded_by=f"{c.recorded_by_organisation}/{c.recorded_by_client}",
        withdraws=c.withdraws_id,
        note=c.note,
    )
