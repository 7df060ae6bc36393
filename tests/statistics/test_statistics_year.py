"""A year of intakes whose figures are known by construction (seed 003: 547 registrations in
2022, 32% self-registrations, domestic violence 7% at registration and more after the home
intake), built through the service layer's own functions (no HTTP per intake), some erased,
some straddling the year boundary. `GET /statistics` must reproduce every figure exactly, with
small cells suppressed."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from app import clock
from app.auth.models import Organisation
from app.auth.principal import Principal
from app.db import session_factory
from app.handoffs.lifecycle import HandoffStep
from app.intakes import handoffs, service, workflow
from app.intakes.schemas import ReferralIn, SelfRegistrationIn
from app.jobs import retention
from app.regions.config import load_region
from app.routing.router import load_router
from app.routing.vulnerability import vulnerability
from tests.support.helpers import auth_for, make_client, referral, seed_programmes, self_registration, token

pytestmark = pytest.mark.slow

YEAR = 2025
# Non-working days of 2025 and around it (Algemene termijnenwet), written out by hand so the
# expected lead times do not come from the code under test.
HOLIDAYS = {
    date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 5), date(2025, 5, 29),
    date(2025, 6, 9), date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1),
}  # fmt: skip
WEEKS = (8, 14, 18, 22, 26, 30, 34)
MVR, WIJKTEAM = "moeders-van-rotterdam", "wijkteam"


def tuesdays() -> list[date]:
    """Tuesdays of the year with no holiday in the 21 days after: 1 working day to Wednesday,
    5 to the next Tuesday, 10 to the one after, 15 three weeks on."""
    day, out = date(YEAR, 1, 7), []
    while day.year == YEAR and day < date(YEAR, 12, 1):
        if not any(day + timedelta(days=n) in HOLIDAYS for n in range(1, 22)):
            out.append(day)
        day += timedelta(days=7)
    return out


def local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.AMSTERDAM)


@dataclass
class Spec:
    i: int
    received: datetime
    source: str  # referral | self
    role: str | None
    age: int
    weeks: int | None  # None: not pregnant
    concerns: list[str]
    contacted: bool = False
    assessment: str | None = None  # home | phone
    assessment_days: int = 7
    found: list[str] = field(default_factory=list)
    programme: str | None = None
    declined_first: bool = False
    started: bool = False
    close: str | None = None  # reason, closed at +28 days (+1 hour for the untouched ones)
    erase: bool = False
    research: bool = False
    counted: bool = True  # counted in YEAR
    worked: bool = True


def build_specs() -> list[Spec]:
    days = tuesdays()
    specs: list[Spec] = []
    for i in range(537):
        referral_index = i - 171
        role = None
        if referral_index >= 0:
            role = (
                "midwife"
                if referral_index < 246
                else "gp"
                if referral_index < 306
                else "jgz"
                if referral_index < 346
                else "wijkteam"
                if referral_index < 362
                else "hospital"
            )
        concerns = ["stress"] + (["debts"] if i % 2 == 0 else []) + (["domestic_violence"] if i % 14 == 0 else [])
        if i in (5, 6):
            concerns.append("justice")
        spec = Spec(
            i=i,
            received=local(days[i % len(days)]),
            source="self" if i < 171 else "referral",
            role=role,
            age=18 + i % 20,
            weeks=None if i % 10 == 9 else WEEKS[i % 7],
            concerns=concerns,
            research=i % 2 == 0,
        )
        if i % 8 != 7:
            spec.contacted = True
            if i % 4 in (0, 1):
                spec.assessment = "home"
                spec.assessment_days = 7 if i % 4 == 0 else 14
                spec.found = (["domestic_violence"] if i % 40 == 1 else []) + (
                    ["social_isolation"] if i % 4 == 0 else []
                )
            elif i % 4 == 2:
                spec.assessment = "phone"
            if spec.assessment and i % 3 == 0:
                spec.programme = MVR if i % 2 == 0 else WIJKTEAM
                spec.declined_first = i % 24 == 0
                spec.started = True
                if i % 2 == 0:
                    spec.close = "support_started"
        elif i % 16 == 15:
            spec.close = "unreachable"
        spec.erase = spec.close is not None and i % 5 == 0
        specs.append(spec)
    # Around 1 January: live ones count on their date, erased ones in the year of their week's Thursday.
    extra = [
        (date(YEAR, 12, 29), "self", False, True),  # live: counted in YEAR
        (date(YEAR, 12, 30), "self", False, True),
        (date(YEAR, 12, 30), "referral", False, True),
        (date(YEAR, 12, 31), "referral", False, True),
        (date(YEAR, 12, 31), "referral", False, True),
        (date(YEAR, 12, 31), "referral", False, True),
        (date(YEAR - 1, 12, 30), "self", True, True),  # erased, week of Thursday 2 January YEAR
        (date(YEAR - 1, 12, 30), "self", True, True),
        (date(YEAR - 1, 12, 31), "referral", True, True),
        (date(YEAR - 1, 12, 31), "referral", True, True),
        (date(YEAR - 1, 12, 30), "referral", False, False),  # live: counted in YEAR - 1
        (date(YEAR - 1, 12, 31), "self", False, False),
        (date(YEAR - 1, 12, 31), "referral", False, False),
        (date(YEAR, 12, 29), "referral", True, False),  # erased, week of Thursday 1 January YEAR + 1
        (date(YEAR, 12, 30), "self", True, False),
        (date(YEAR, 12, 31), "self", True, False),
        (date(YEAR, 12, 31), "referral", True, False),
        (date(YEAR, 12, 31), "referral", True, False),
    ]
    for n, (day, source, erase, counted) in enumerate(extra):
        specs.append(
            Spec(
                i=1000 + n,
                received=local(day, 11),
                source=source,
                role="midwife" if source == "referral" else None,
                age=30,
                weeks=20,
                concerns=["stress"],
                close="no_support_needed" if erase else None,
                erase=erase,
                counted=counted,
                worked=False,
            )
        )
    return specs


def at(moment: datetime) -> None:
    clock.reset()
    clock.advance(moment - datetime.now(UTC))


def body_for(spec: Spec) -> ReferralIn | SelfRegistrationIn:
    received = spec.received.date()
    birth = date(received.year - spec.age, 1, 1)  # never received on 1 January: she is `age` at receipt
    overrides: dict[str, Any] = {
        "client.givenName": f"Voornaam{spec.i}",
        "client.familyName": f"Achternaam{spec.i}",
        "client.birthDate": birth.isoformat(),
        "client.phone": f"+316{10000000 + spec.i}",
        "client.email": f"client{spec.i}@example.org",
        "pregnancy": {"pregnant": False}
        if spec.weeks is None
        else {
            "pregnant": True,
            "dueDate": (received + timedelta(days=280 - 7 * spec.weeks - 3)).isoformat(),
            "firstChild": True,
        },
        "concerns": spec.concerns,
    }
    raw = referral(**overrides) if spec.source == "referral" else self_registration(**overrides)
    raw["client"]["address"]["postcode"] = f"30{spec.i % 90 + 10:02d} AB"
    if spec.source == "referral":
        raw["client"].pop("bsn")
        raw["referrer"]["role"] = spec.role
        raw["consent"]["obtainedAt"] = spec.received.isoformat()
    if spec.research:
        raw["consent"]["scopes"].append("research")
    return ReferralIn.model_validate(raw) if spec.source == "referral" else SelfRegistrationIn.model_validate(raw)


async def build_year(specs: list[Spec]) -> dict[int, uuid.UUID]:
    region, router = load_region("rotterdam"), load_router("rules")
    ids: dict[int, uuid.UUID] = {}
    async with session_factory()() as db:
        orgs = {o.code: o for o in (await db.scalars(select(Organisation))).all()}

        def principal(code: str, scopes: set[str]) -> Principal:
            org = orgs[code]
            return Principal(f"fixture-{code}", org.id, code, org.kind, "rotterdam", frozenset(scopes))

        staff = principal("aanmeldpunt-rotterdam", {"intakes:read", "intakes:write"})
        referrer = principal("verloskundigen-zuid", {"referrals:write"})
        programme = {
            MVR: principal(MVR, {"handoffs:write"}),
            WIJKTEAM: principal("wijkteam-rotterdam", {"handoffs:write"}),
        }

        async def hand_over(intake_id: Any, code: str, day: datetime, *, decline: bool = False) -> None:
            at(day)
            await workflow.decide(db, staff, intake_id, None, programme=code, reason="Past bij haar situatie.")
            handoff = await handoffs.offer(db, staff, intake_id, None, region)
            who = programme[code]
            if decline:
                await handoffs.step(db, who, handoff.id, HandoffStep.DECLINE, reason="Vol.")
                return
            await handoffs.step(db, who, handoff.id, HandoffStep.ACCEPT)
            await handoffs.step(db, who, handoff.id, HandoffStep.FIRST_CONTACT, at=day)

        for spec in specs:
            at(spec.received)
            bundle = await service.receive(
                db,
                body_for(spec),
                principal=referrer if spec.source == "referral" else None,
                region=region,
                router=router,
            )
            intake_id = bundle.intake.id
            ids[spec.i] = intake_id
            day = spec.received
            if spec.contacted:
                at(day + timedelta(days=1))
                await workflow.add_contact(
                    db, staff, intake_id, None, at=day + timedelta(days=1), channel="phone", reached=True, note=None
                )
            if spec.assessment:
                visited = day + timedelta(days=spec.assessment_days)
                at(visited)
                await workflow.assess(
                    db, staff, intake_id, None, region, visited_at=visited, location=spec.assessment,
                    concerns=spec.found, safety_concern=False, notes=None,
                )  # fmt: skip
            if spec.programme:
                if spec.declined_first:
                    await hand_over(intake_id, MVR, day + timedelta(days=15), decline=True)
                    await hand_over(intake_id, WIJKTEAM, day + timedelta(days=16))
                else:
                    await hand_over(intake_id, spec.programme, day + timedelta(days=15))
                started = day + timedelta(days=21)
                at(started)
                bundle = await service.load_bundle(db, intake_id)
                assert bundle is not None
                live = next(h for h in bundle.handoffs if h.status == "first_contact")
                who = programme[live.programme]
                await handoffs.step(db, who, live.id, HandoffStep.SUPPORT_STARTED, at=started)
            if spec.close and spec.erase:
                at(day + (timedelta(days=28) if spec.worked else timedelta(hours=1)))
                await workflow.close(db, staff, intake_id, None, region, reason=spec.close, note="Afgesloten.")
            await db.commit()
        clock.reset()
        assert await retention.erase_due(db, datetime(2100, 1, 1, tzinfo=UTC)) == sum(1 for s in specs if s.erase)
        await db.commit()
        # Closed later, not erased.
        for spec in specs:
            if spec.close and not spec.erase:
                at(spec.received + timedelta(days=28))
                await workflow.close(db, staff, ids[spec.i], None, region, reason=spec.close, note=None)
        await db.commit()
    clock.reset()
    return ids


def nearest_rank(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    return float(ordered[max(1, math.ceil(fraction * len(ordered))) - 1])


def cell(count: int, total: int | None = None) -> dict[str, Any]:
    return {
        "count": count,
        "share": None if total is None or total == 0 else round(count / total, 4),
        "suppressed": False,
    }


HIDDEN = {"count": None, "share": None, "suppressed": True}


def band(weeks: int) -> str:
    return "<12" if weeks < 12 else "12-19" if weeks < 20 else "20-27" if weeks < 28 else ">=28"


async def test_a_year_of_intakes_reproduces_every_figure(client) -> None:
    await seed_programmes()
    await make_client("verloskundigen-zuid", "referrer", ["referrals:write"])
    await make_client("aanmeldpunt-rotterdam", "aanmeldpunt", ["intakes:read"])
    specs = build_specs()
    ids = await build_year(specs)
    cid, secret = await make_client("gemeente-rotterdam-onderzoek", "referrer", ["statistics:read"])
    headers = {"Authorization": f"Bearer {await token(client, cid, secret)}"}
    r = await client.get(f"/api/v1/statistics?from={YEAR}-01-01&to={YEAR}-12-31", headers=headers)
    assert r.status_code == 200, r.text
    stats = r.json()
    counted = [s for s in specs if s.counted]

    # Registrations: 547, of which 175 self-registrations (32%).
    total = len(counted)
    assert total == 547 and sum(1 for s in counted if s.source == "self") == 175
    registrations = stats["registrations"]
    assert registrations["total"] == cell(547)
    assert registrations["bySource"] == {"referral": cell(372, 547), "self_registration": cell(175, 547)}
    assert registrations["bySource"]["self_registration"]["share"] == 0.3199
    roles = Counter(s.role for s in counted if s.source == "referral")
    assert roles == {"midwife": 252, "gp": 60, "jgz": 40, "wijkteam": 16, "hospital": 4}
    expected_roles = {role: cell(roles.get(role, 0), 372) for role in registrations["byReferrerRole"]}
    # 4 from hospitals is a small cell; the wijkteam's 16 is suppressed with it, or 372 minus the rest would give it.
    expected_roles["hospital"] = HIDDEN
    expected_roles["wijkteam"] = HIDDEN
    assert registrations["byReferrerRole"] == expected_roles
    months = Counter(
        f"{(s.received.date() if not s.erase else s.received.date() + timedelta(days=3 - s.received.weekday())):%Y-%m}"
        for s in counted
    )
    assert months[f"{YEAR}-01"] >= 4  # the erased intakes of 30-31 December YEAR-1 count in January
    assert registrations["byMonth"] == {
        f"{YEAR}-{m:02d}": cell(months.get(f"{YEAR}-{m:02d}", 0), 547) for m in range(1, 13)
    }

    # Pregnancy and age at registration.
    pregnant = [s for s in counted if s.weeks is not None]
    assert stats["pregnancy"]["pregnant"] == cell(len(pregnant), 547)
    assert stats["pregnancy"]["notPregnant"] == cell(547 - len(pregnant), 547)
    bands = Counter(band(s.weeks) for s in pregnant if s.weeks is not None)
    assert stats["pregnancy"]["weeksAtRegistration"] == {
        b: cell(bands[b], len(pregnant)) for b in ("<12", "12-19", "20-27", ">=28")
    }
    assert stats["pregnancy"]["medianWeeksAtRegistration"] == nearest_rank(
        [s.weeks for s in pregnant if s.weeks is not None], 0.5
    )
    ages = Counter(
        "<20" if s.age < 20 else "20-24" if s.age < 25 else "25-29" if s.age < 30 else "30-34" if s.age < 35 else ">=35"
        for s in counted
    )
    assert stats["age"]["atRegistration"] == {b: cell(ages[b], 547) for b in ("<20", "20-24", "25-29", "30-34", ">=35")}

    # Concerns at registration and after the home intake; 'justice' (2) is suppressed.
    home = [s for s in counted if s.assessment == "home"]
    dv_registered = sum(1 for s in counted if "domestic_violence" in s.concerns)
    dv_after = sum(1 for s in home if "domestic_violence" in s.concerns + s.found)
    assert round(dv_registered / 547, 2) == 0.07 and 0.12 <= dv_after / len(home) < 0.13  # seed 003: 7% -> 12%
    concerns = stats["concerns"]
    assert concerns["domestic_violence"] == {
        "atRegistration": cell(dv_registered, 547),
        "afterAssessment": cell(dv_after, len(home)),
    }
    assert concerns["justice"]["atRegistration"] == HIDDEN
    for code in ("stress", "debts", "social_isolation", "housing_problem"):
        assert concerns[code] == {
            "atRegistration": cell(sum(1 for s in counted if code in s.concerns), 547),
            "afterAssessment": cell(sum(1 for s in home if code in s.concerns + s.found), len(home)),
        }, code

    # Vulnerability after everything that was found.
    levels = Counter(vulnerability(s.concerns + s.found, False) for s in counted)
    assert stats["vulnerability"] == {
        lvl: cell(levels[lvl], 547) for lvl in ("potentially_vulnerable", "vulnerable", "very_vulnerable")
    }

    # Contact and intake.
    reasons = Counter(s.close or "open" for s in counted)
    assert reasons["unreachable"] >= 5 and reasons["no_support_needed"] == 4
    expected_outcomes = {reason: cell(reasons.get(reason, 0), 547) for reason in stats["outcomes"]}
    expected_outcomes["no_support_needed"] = HIDDEN  # 4
    smallest_other = min((r for r in reasons if r != "no_support_needed"), key=lambda r: (reasons[r], r))
    expected_outcomes[smallest_other] = HIDDEN  # secondary: else 547 minus the rest gives the 4
    assert stats["outcomes"] == expected_outcomes
    assert stats["intake"] == {
        "contacted": cell(sum(1 for s in counted if s.contacted), 547),
        "assessed": cell(sum(1 for s in counted if s.assessment), 547),
        "assessedAtHome": cell(len(home), 547),
        "unreachable": expected_outcomes["unreachable"],  # the same cell as in outcomes
        "declinedByClient": cell(0, 547),
    }

    # Routing per programme.
    async with session_factory()() as db:
        recommended = Counter(
            (
                await db.scalars(
                    text("SELECT routing->'recommendation'->>'programme' FROM intakes WHERE id = ANY(:ids)"),
                    {"ids": [ids[s.i] for s in counted]},
                )
            ).all()
        )
    routing = stats["routing"]

    def small(count: int) -> dict[str, Any]:
        return HIDDEN if 0 < count < 5 else cell(count, 547)

    for code, figures in routing.items():
        assert figures["recommended"] == small(recommended.get(code, 0)), code
    mvr_decided = sum(1 for s in counted if s.programme == MVR)
    wijkteam_decided = sum(1 for s in counted if s.programme == WIJKTEAM or s.declined_first)
    declined = sum(1 for s in counted if s.declined_first)
    assert declined >= 5 and mvr_decided - declined >= 5
    assert routing[MVR] == {
        "recommended": small(recommended[MVR]),
        "decided": cell(mvr_decided, 547),
        "offered": cell(mvr_decided, 547),
        "accepted": cell(mvr_decided - declined, 547),
        "declined": cell(declined, 547),
        "supportStarted": cell(mvr_decided - declined, 547),
    }
    assert routing[WIJKTEAM] == {
        "recommended": small(recommended[WIJKTEAM]),
        "decided": cell(wijkteam_decided, 547),
        "offered": cell(wijkteam_decided, 547),
        "accepted": cell(wijkteam_decided, 547),
        "declined": cell(0, 547),
        "supportStarted": cell(wijkteam_decided, 547),
    }

    # Lead times in working days, and deadlines met on time.
    def phase_expectation(phase: str) -> dict[str, Any]:
        on_time, late, days = 0, 0, []
        for s in counted:
            row = "not_pregnant" if s.weeks is None else ">=28" if s.weeks >= 28 else "<28"
            if phase == "response":
                met, limit = (1 if s.contacted else None), {"not_pregnant": 5, ">=28": 1, "<28": 2}[row]
            elif phase == "intake":
                met = {7: 5, 14: 10}[s.assessment_days] if s.assessment else None
                limit = {"not_pregnant": 15, ">=28": 5, "<28": 10}[row]
            else:
                met, limit = (15 if s.started else None), {"not_pregnant": 30, ">=28": 10, "<28": 20}[row]
            if met is not None:
                days.append(met)
                on_time, late = on_time + (met <= limit), late + (met > limit)
            elif s.close and s.worked and limit * 7 / 5 < 28:  # closed after it was due: missed
                late += 1
            elif s.close:  # closed before it was due: not counted
                continue
            else:  # still open, long past due
                late += 1
        due = on_time + late
        return {
            "due": cell(due),
            "metOnTime": cell(on_time, due),
            "late": cell(late, due),
            "shareOnTime": round(on_time / due, 4),
            "medianWorkingDays": nearest_rank(days, 0.5),
            "p90WorkingDays": nearest_rank(days, 0.9),
        }

    for phase in ("response", "intake", "support_start"):
        assert stats["leadTimes"][phase] == phase_expectation(phase), phase

    assert stats["k"] == 5 and stats["region"] == "rotterdam"


async def test_statistics_scope_and_period(client) -> None:
    referrer = await auth_for(client, "referrer")
    staff = await auth_for(client, "staff")
    assert (await client.get("/api/v1/statistics?from=2025-01-01&to=2025-12-31", headers=referrer)).status_code == 403
    assert (await client.get("/api/v1/statistics?from=2025-01-01&to=2025-12-31")).status_code == 401
    r = await client.get("/api/v1/statistics?from=2025-01-01&to=2025-12-31", headers=staff)
    assert r.status_code == 200 and r.json()["registrations"]["total"] == cell(0)
    bad = await client.get("/api/v1/statistics?from=2025-12-31&to=2025-01-01", headers=staff)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert [p["name"] for p in bad.json()["invalidParams"]] == ["to"]
    assert (await client.get("/api/v1/statistics?from=2025-13-01&to=2025-12-31", headers=staff)).status_code == 400
