"""The yardsticks of `make bench`: FastAPI on raw asyncpg, nothing else between the request
and PostgreSQL. Same machine, database, uvicorn configuration and load generator as the
service.

- `POST /items`: the thinnest service (validate a small body, one `INSERT … RETURNING`).
  A reference line only: it does a fraction of a referral's work.
- `POST /referrals`: the **same work** as the service's `POST /api/v1/referrals`, done by
  hand. The same bearer-token check (ES256, verified once per token like the service), the
  same `ReferralIn` model and cross-field rules, the same pure cores (deadline policy,
  router, consent rule, fan-out rule), and exactly the rows a referral writes, in one
  transaction: the Idempotency-Key lock, lookup and record; the catalogue read; the
  duplicate search (and links); the intake, its consents, deadlines and statistics facts
  (derived by the same pure function); the outbox event
  with its deliveries fanned out to the subscriptions that may hear of it; the access-log
  row chained under the same advisory lock the service takes.
- `GET /intakes`: the same work as the worklist `GET /api/v1/intakes?limit=50` (open
  intakes of the caller's region, most urgent first) with one chained access-log row per
  listed intake.

Keeping it in step: `tests/bench/test_bench_samework.py` sends one referral and one worklist
request to this app and to the service on identical databases and compares, table by
table, the rows each inserted, updated and deleted. When the service starts writing a new
table on receipt, that test fails and names the table: add the rows here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app import clock
from app.auth.tokens import PublicKey, TokenError, verify
from app.config import Settings
from app.consent.rules import Action, decide
from app.deadlines.calendar import WorkingDayCalendar
from app.deadlines.policy import Facts, compute
from app.intakes.api import MOST_URGENT_FIRST  # the worklist's cursor, encoded as the service does
from app.intakes.schemas import ReferralIn
from app.intakes.validation import referral_problems
from app.regions.config import load_region
from app.routing.router import ProgrammeInfo, RoutingFacts, load_router
from app.routing.vulnerability import vulnerability
from app.statistics.facts import DeadlineFact, Snapshot, derive
from app.statistics.facts import Facts as StatisticsFacts
from app.statistics.models import IntakeFacts
from app.webhooks.outbox import Audience, may_receive

CHAIN_LOCK = 7_513_001  # the service's audit-chain lock (app/audit/service.py)
GENESIS = "0" * 64
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

DUPLICATES = """
SELECT id FROM intakes
WHERE closed_at IS NULL AND region = $1 AND id <> $2
  AND (($3::text IS NOT NULL AND bsn = $3)
       OR ($4::date IS NOT NULL AND birth_date = $4 AND family_name_key = $5
           AND ((postcode IS NOT NULL AND postcode = $6) OR (phone IS NOT NULL AND phone = $7))))
LIMIT 20
"""
INSERT_INTAKE = """
INSERT INTO intakes (id, reference, region, status, source, referrer_organisation_id, received_at, client,
    pregnancy, children, concerns, safety_concern, narrative, referrer, legal_basis, basis_justification,
    vulnerability, next_deadline_at, routing, excluded_programmes, possible_duplicates, version,
    created_by_client, bsn, birth_date, family_name_key, postcode, phone)
VALUES ($1, $2, $3, 'received', 'referral', $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb, $10, $11,
    $12::jsonb, $13, $14, $15, $16, $17::jsonb, '{}', $18, 1, $19, $20, $21, $22, $23, $24)
"""
INSERT_CONSENT = """
INSERT INTO consents (id, intake_id, scope, given, obtained_at, method, recorded_at, recorded_by_client,
    recorded_by_organisation)
VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8)
"""
INSERT_DEADLINE = "INSERT INTO deadlines (id, intake_id, phase, due_at, approaching_at) VALUES ($1, $2, $3, $4, $5)"
EVENT_AND_SUBSCRIBERS = """
WITH e AS (
    INSERT INTO events (id, type, intake_id, region, occurred_at, data) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
    RETURNING seq
)
SELECT e.seq, s.id, s.organisation_id, o.kind
FROM e LEFT JOIN (webhook_subscriptions s JOIN organisations o ON o.id = s.organisation_id)
    ON s.enabled AND $2 = ANY(s.event_types)
"""
INSERT_DELIVERY = """
INSERT INTO webhook_deliveries (id, event_id, event_seq, subscription_id, intake_id, status, attempts,
    next_attempt_at, created_at)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)
"""
CHAIN_HEAD = "SELECT hash FROM access_log ORDER BY seq DESC LIMIT 1"
INSERT_AUDIT = """
INSERT INTO access_log (id, at, action, intake_id, client_id, organisation, user_id, basis, emergency, prev_hash,
    hash, key_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9, $10, $11)
"""
# The service seals each row with HMAC-SHA256 under its audit key (app.audit.chain): the same work here.
AUDIT_KEY = secrets.token_bytes(48)
AUDIT_KEY_ID = hashlib.sha256(b"aanmeldpunt-audit-key-id\x00" + AUDIT_KEY).hexdigest()[:16]
FACT_COLUMNS = [f.name for f in fields(StatisticsFacts)]
FACT_JSON = {c.key for c in IntakeFacts.__table__.columns if c.type.__class__.__name__ in ("JSON", "JSONB")}
INSERT_FACTS = (
    f"INSERT INTO intake_facts (intake_id, {', '.join(FACT_COLUMNS)}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(FACT_COLUMNS) + 2))})"
)
IDEMPOTENCY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))"
IDEMPOTENCY_FIND = "SELECT request_hash, status_code, body, headers FROM idempotency_keys WHERE owner = $1 AND key = $2"
IDEMPOTENCY_SAVE = """
INSERT INTO idempotency_keys (owner, key, request_hash, status_code, body, headers, created_at)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
"""
WORKLIST = """
SELECT id, reference, status, source, received_at, client->>'givenName' AS given_name,
    client->>'familyName' AS family_name, client IS NOT NULL AS has_client,
    coalesce((pregnancy->>'pregnant')::boolean, false) AS pregnant, safety_concern, vulnerability,
    decided_programme, next_deadline_at, legal_basis
FROM intakes
WHERE region = $1 AND closed_at IS NULL
ORDER BY next_deadline_at ASC NULLS LAST, id
LIMIT $2
"""


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    value: int


class Consent:
    """What the consent rule needs of a consent row."""

    __slots__ = ("given", "recorded_at", "scope")

    def __init__(self, scope: str, recorded_at: datetime) -> None:
        self.scope, self.given, self.recorded_at = scope, True, recorded_at


def _z(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def dumps(value: Any) -> str:
    return json.dumps(value, default=_iso, separators=(",", ":"))


def chain_hash(prev: str, row: tuple[Any, ...]) -> str:
    """The service's row hash (app/audit/chain.py): sha256 over the previous hash and the row."""
    row_id, at, action, intake_id, client_id, organisation, user_id, basis = row
    canonical = json.dumps(
        [str(row_id), at.isoformat(timespec="microseconds"), action, str(intake_id) if intake_id else None,
         client_id, organisation, user_id, basis, False, AUDIT_KEY_ID],
        separators=(",", ":"),
    )  # fmt: skip
    return hmac.new(AUDIT_KEY, (prev + canonical).encode(), hashlib.sha256).hexdigest()


async def audit(conn: asyncpg.Connection, who: dict[str, Any], action: str, rows: list[tuple[uuid.UUID, str]]) -> None:
    """One chained access-log row per (intake id, basis), under the chain lock, in this transaction."""
    if not rows:
        return
    await conn.execute("SELECT pg_advisory_xact_lock($1)", CHAIN_LOCK)
    prev = await conn.fetchval(CHAIN_HEAD) or GENESIS
    now = clock.now()
    args = []
    for intake_id, basis in rows:
        row = (uuid.uuid4(), now, action, intake_id, who["client"], who["org"], who["user"], basis)
        digest = chain_hash(prev, row)
        args.append((*row, prev, digest, AUDIT_KEY_ID))
        prev = digest
    await conn.executemany(INSERT_AUDIT, args)


def create_app() -> FastAPI:
    dsn = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    settings = Settings(database_url=dsn)
    region = load_region(settings.region_codes[0])
    router = load_router(settings.router)
    calendar = WorkingDayCalendar(region.closure_days)
    state: dict[str, Any] = {"keys": {}, "loaded": 0.0}

    async def load_keys(conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(
            "SELECT kid, algorithm, public_jwk FROM signing_keys WHERE retire_at IS NULL OR retire_at > now()"
        )
        state["keys"] = {r["kid"]: PublicKey(r["kid"], r["algorithm"], json.loads(r["public_jwk"])) for r in rows}
        state["loaded"] = time.monotonic()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=2,
            max_size=settings.db_pool_size * 2,  # the service's pool_size + max_overflow
            server_settings={"timezone": "UTC", "statement_timeout": str(settings.db_statement_timeout_ms)},
        )
        async with pool.acquire() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS baseline_items (id bigserial PRIMARY KEY, name text NOT NULL, "
                "value integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
            )
            await load_keys(conn)
        state["pool"] = pool
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    async def principal(request: Request, scope: str) -> dict[str, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401)
        try:
            claims = verify(token, state["keys"], issuer=settings.token_issuer, audience=settings.token_audience)
        except TokenError:
            if time.monotonic() - state["loaded"] > 5:
                async with state["pool"].acquire() as conn:
                    await load_keys(conn)
            raise HTTPException(401) from None
        if scope not in str(claims.get("scope", "")).split():
            raise HTTPException(403)
        return {
            "client": str(claims["sub"]),
            "org_id": uuid.UUID(str(claims["org_id"])),
            "org": str(claims["org"]),
            "region": str(claims.get("region", settings.region_codes[0])),
            "user": claims.get("user") if isinstance(claims.get("user"), str) else None,
        }

    @app.post("/items", status_code=201)
    async def create_item(item: Item) -> dict[str, Any]:
        row = await state["pool"].fetchrow(
            "INSERT INTO baseline_items (name, value) VALUES ($1, $2) RETURNING id, created_at", item.name, item.value
        )
        return {"id": row["id"], "name": item.name, "value": item.value, "createdAt": row["created_at"].isoformat()}

    @app.post("/referrals", status_code=201)
    async def create_referral(
        request: Request,
        body: ReferralIn,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
    ) -> Response:
        who = await principal(request, "referrals:write")
        now = clock.now()
        today = now.astimezone(clock.AMSTERDAM).date()
        if problems := referral_problems(body, now, today):
            raise HTTPException(400, problems)
        raw = await request.body()
        async with state["pool"].acquire() as conn, conn.transaction():
            owner = f"client:{who['client']}"
            request_hash = hashlib.sha256(raw).hexdigest()
            if idempotency_key is not None:
                if not await conn.fetchval(IDEMPOTENCY_LOCK, owner + "\x1f" + idempotency_key):
                    raise HTTPException(409)
                earlier = await conn.fetchrow(IDEMPOTENCY_FIND, owner, idempotency_key)
                if earlier is not None:
                    if earlier["request_hash"] != request_hash:
                        raise HTTPException(422)
                    headers = {**json.loads(earlier["headers"]), "Idempotent-Replayed": "true"}
                    return Response(earlier["body"], earlier["status_code"], headers, "application/json")
            intake_id = uuid.uuid4()
            reference = "AMP-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))
            client = body.client.model_dump(mode="json", by_alias=True, exclude_none=True)
            pregnancy = body.pregnancy.model_dump(mode="json", by_alias=True, exclude_none=True)
            concerns = [{"code": str(c), "source": "referral"} for c in dict.fromkeys(body.concerns)]
            address = body.client.address
            postcode = address.postcode.replace(" ", "") if address and address.postcode else None
            family_name_key = body.client.family_name.strip().lower()
            due = compute(
                now,
                Facts(pregnant=body.pregnancy.pregnant, due_date=body.pregnancy.due_date,
                      safety_concern=body.safety_concern),
                region.deadlines,
                calendar,
            )  # fmt: skip
            next_due = min((d.due_at for d in due), default=None)
            catalogue = [
                ProgrammeInfo(r["code"], r["name"], r["accepting_clients"])
                for r in await conn.fetch(
                    "SELECT code, name, accepting_clients FROM programmes WHERE region = $1", region.region
                )
            ]
            recommendation = router.recommend(
                RoutingFacts(
                    birth_date=body.client.birth_date,
                    pregnant=body.pregnancy.pregnant,
                    due_date=body.pregnancy.due_date,
                    first_child=body.pregnancy.first_child,
                    children_birth_dates=tuple(c.birth_date for c in body.children),
                    concerns=tuple(c["code"] for c in concerns),
                    safety_concern=body.safety_concern,
                    postcode=address.postcode if address else None,
                    city=address.city if address else None,
                ),
                catalogue,
                today,
                frozenset(),
                region,
            )
            routing = {"recommendation": recommendation.as_json(), "recommendedAt": _z(now), "decision": None}
            duplicates = [
                r["id"]
                for r in await conn.fetch(
                    DUPLICATES, region.region, intake_id, body.client.bsn, body.client.birth_date, family_name_key,
                    postcode, client.get("phone"),
                )
            ]  # fmt: skip
            await conn.execute(
                INSERT_INTAKE, intake_id, reference, region.region, who["org_id"], now, dumps(client),
                dumps(pregnancy), dumps([c.model_dump(mode="json", by_alias=True) for c in body.children]),
                dumps(concerns), body.safety_concern, body.narrative,
                dumps(body.referrer.model_dump(mode="json", by_alias=True, exclude_none=True)), body.legal_basis,
                body.justification, vulnerability([c["code"] for c in concerns], body.safety_concern), next_due,
                dumps(routing), duplicates, who["client"], body.client.bsn, body.client.birth_date, family_name_key,
                postcode, client.get("phone"),
            )  # fmt: skip
            if duplicates:
                await conn.execute("SELECT 1 FROM intakes WHERE id = ANY($1) ORDER BY id FOR UPDATE", duplicates)
                await conn.execute(
                    "UPDATE intakes SET possible_duplicates = array_append(possible_duplicates, $2) WHERE id = ANY($1)",
                    duplicates,
                    intake_id,
                )
            consents = []
            if body.consent.client_consented:
                consents = [Consent(scope, now) for scope in dict.fromkeys(body.consent.scopes)]
                await conn.executemany(
                    INSERT_CONSENT,
                    [(uuid.uuid4(), intake_id, c.scope, body.consent.obtained_at or now, body.consent.method, now,
                      who["client"], who["org"]) for c in consents],
                )  # fmt: skip
            await conn.executemany(
                INSERT_DEADLINE, [(uuid.uuid4(), intake_id, d.phase, d.due_at, d.approaching_at) for d in due]
            )
            facts = derive(
                None,
                Snapshot(
                    region=region.region, received_at=now, source="referral", referrer_role=body.referrer.role,
                    birth_date=body.client.birth_date, pregnant=body.pregnancy.pregnant,
                    due_date=body.pregnancy.due_date, first_child=body.pregnancy.first_child,
                    concerns=tuple((c["code"], c["source"]) for c in concerns), safety_concern=body.safety_concern,
                    vulnerability=vulnerability([c["code"] for c in concerns], body.safety_concern),
                    status="received", close_reason=None, contact_attempts=0, contacted=False, assessed=False,
                    assessed_at_home=False, recommended=recommendation.programme, decided=None, handoffs=(),
                    deadlines=tuple(DeadlineFact(d.phase, d.due_at, None, None) for d in due),
                    research_consent=bool(decide(consents, Action.EXPORT_RESEARCH, body.legal_basis)),
                ),
                calendar,
            ).columns()  # fmt: skip
            await conn.execute(
                INSERT_FACTS, intake_id, *(dumps(facts[k]) if k in FACT_JSON else facts[k] for k in FACT_COLUMNS)
            )
            event_id = uuid.uuid4()
            data = {
                "intakeId": str(intake_id),
                "reference": reference,
                "status": "received",
                "programme": None,
                "nextDeadlineAt": _z(next_due),
                "deadlines": [{"phase": d.phase, "dueAt": _z(d.due_at), "state": "open"} for d in due],
            }
            subscribers = await conn.fetch(
                EVENT_AND_SUBSCRIBERS, event_id, "intake.received", intake_id, region.region, now, dumps(data)
            )
            audience = Audience(who["org_id"], body.legal_basis, consents, frozenset())
            deliveries = [
                (uuid.uuid4(), event_id, r["seq"], r["id"], intake_id, now)
                for r in subscribers
                if r["id"] is not None and may_receive(r["kind"], r["organisation_id"], audience)
            ]
            if deliveries:
                await conn.executemany(INSERT_DELIVERY, deliveries)
            processing = decide(consents, Action.PROCESS, body.legal_basis)
            await audit(conn, who, "create", [(intake_id, processing.basis if processing else "none")])
            feedback = bool(decide(consents, Action.REFERRER_FEEDBACK, body.legal_basis))
            # The referrer's view (app.cases.referrer_view): every field always present.
            dates = ("contactedAt", "assessedAt", "routedAt", "handedOffAt", "firstContactAt", "supportStartedAt")
            view: dict[str, Any] = {
                "id": intake_id,
                "reference": reference,
                "receivedAt": now,
                "status": "received",
                "feedback": feedback,
                "programmes": [],
                "contactPerson": None,
                "dates": dict.fromkeys((*dates, "closedAt")),
                "closeReason": None,
            }
            content = dumps(view)
            headers = {"Location": f"/api/v1/referrals/{intake_id}"}
            if idempotency_key is not None:
                await conn.execute(
                    IDEMPOTENCY_SAVE, owner, idempotency_key, request_hash, 201, content, dumps(headers), now
                )
        return Response(content, 201, headers, "application/json")

    @app.get("/intakes")
    async def worklist(request: Request, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
        who = await principal(request, "intakes:read")
        now = clock.now()
        async with state["pool"].acquire() as conn, conn.transaction():
            rows = await conn.fetch(WORKLIST, who["region"], limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            items = [
                {
                    "id": r["id"],
                    "reference": r["reference"],
                    "status": r["status"],
                    "source": r["source"],
                    "receivedAt": r["received_at"],
                    "displayName": f"{r['given_name'] or ''} {r['family_name'] or ''}".strip()
                    if r["has_client"]
                    else None,
                    "pregnant": r["pregnant"],
                    "safetyConcern": r["safety_concern"],
                    "vulnerability": r["vulnerability"],
                    "decidedProgramme": r["decided_programme"],
                    "nextDeadlineAt": r["next_deadline_at"],
                    "overdue": r["next_deadline_at"] is not None and r["next_deadline_at"] < now,
                }
                for r in rows
            ]
            bases = [(r["id"], "processing" if r["legal_basis"] == "consent" else r["legal_basis"]) for r in rows]
            await audit(conn, who, "search", bases)
        cursor = None
        if more:
            last = rows[-1]
            due = last["next_deadline_at"]
            cursor = MOST_URGENT_FIRST.encode([due, last["id"]])
        return Response(dumps({"items": items, "nextCursor": cursor}), 200, media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
