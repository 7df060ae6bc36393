"""Retention: erase the personal data of intakes whose `erase_after` has passed (closed for
the region's retention period, or at once after consent_withdrawn).

What remains is the anonymous remainder of DOMAIN.md: codes (status, source, concern codes,
vulnerability, programmes, close reason), deadline outcomes, and dates rounded to the week.
In detail, for each erased intake:
- its row loses names, contact data, BSN, birth date, due date, children, the partner, all
  free text, the match keys, its links to other intakes (`possibleDuplicates`, `mergedInto`,
  `previousIntakes`, `laterIntakes`, and the links other intakes had to it), and the routing
  reasons (which name ages and dates): of routing only the programme codes, router and rules
  version stay;
- every timestamp (and date) of its own records (the intake, and every row of every table with an
  `intake_id`: contacts, assessments, consents, deadlines, handoffs, and whatever is added
  later) becomes the Thursday 12:00 Europe/Amsterdam of its ISO week, and every free-text
  column of those rows is emptied;
- the case's own records (app.cases) go with it: coordinator names and contact details,
  involvements' names and contact details, meeting summaries, agreements, done-notes and case
  notes are `Text` and emptied above; meeting participants (JSON with names) become `[]`;
- its outbox events keep their type and codes but lose due moments and other intakes' ids;
- its `intake_facts` row (statistics) keeps the week of receipt, not the date.
Not touched: the access log (kept at least 5 years, chained, holds no personal data itself)
and the webhook delivery log (operational; times and status codes only).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Date, DateTime, Table, Text, cast, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.cases.models import CaseMeeting
from app.db import Base
from app.intakes.models import Intake
from app.intakes.snapshot import refresh_facts
from app.statistics import facts as statistics_facts
from app.statistics import service as statistics

BATCH = 200

# Tables with an intake_id whose rows are not the intake's own record.
NOT_OWN_RECORDS = frozenset({"access_log", "events", "webhook_deliveries", "intake_facts"})


def week_moment(moment: datetime) -> datetime:
    """The Thursday 12:00 (Europe/Amsterdam) of `moment`'s ISO week: 'rounded to the week' in a
    way that keeps the ISO year and month the statistics count the week in."""
    local = moment.astimezone(clock.AMSTERDAM)
    thursday = statistics_facts.week_thursday(local.date())
    return datetime(thursday.year, thursday.month, thursday.day, 12, tzinfo=clock.AMSTERDAM)


def _week_sql(column: object) -> object:
    return func.timezone(
        "Europe/Amsterdam",
        func.date_trunc("week", func.timezone("Europe/Amsterdam", column)) + text("interval '3 days 12 hours'"),
    )


def own_record_tables() -> list[Table]:
    """Every table that holds rows of one intake (found by its `intake_id` column)."""
    import app.models  # noqa: F401 - every model registered on the metadata

    return [
        table
        for table in Base.metadata.sorted_tables
        if "intake_id" in table.columns and table.name not in NOT_OWN_RECORDS and table.name != "intakes"
    ]


def routing_codes(routing: dict[str, object] | None) -> dict[str, object] | None:
    """Of a stored recommendation and decision only the codes: no reasons (they name ages,
    weeks and dates), no free text, no who or when. The shape stays that of a recommendation,
    with empty reason lists."""
    if not routing:
        return routing
    recommendation = routing.get("recommendation")
    decision = routing.get("decision")
    kept: dict[str, object] = {"recommendation": None, "decision": None}

    def codes_only(entries: object) -> list[dict[str, object]]:
        if not isinstance(entries, list):
            return []
        return [{"programme": e.get("programme"), "reasons": []} for e in entries if isinstance(e, dict)]

    if isinstance(recommendation, dict):
        kept["recommendation"] = {
            "programme": recommendation.get("programme"),
            "router": recommendation.get("router"),
            "rulesVersion": recommendation.get("rulesVersion"),
            "vulnerability": recommendation.get("vulnerability"),
            "reasons": [],
            "alternatives": codes_only(recommendation.get("alternatives")),
            "excluded": codes_only(recommendation.get("excluded")),
            "advice": [a for a in recommendation.get("advice") or [] if isinstance(a, str)],
        }
    if isinstance(decision, dict):
        kept["decision"] = {"programme": decision.get("programme"), "override": decision.get("override")}
    return kept


async def _erase_records(db: AsyncSession, ids: list[uuid.UUID]) -> None:
    for table in own_record_tables():
        values: dict[str, object] = {}
        for column in table.columns:
            if isinstance(column.type, DateTime):
                values[column.name] = _week_sql(column)
            elif isinstance(column.type, Date):  # e.g. an agreement's due date: its week's Thursday
                values[column.name] = cast(func.date_trunc("week", column) + text("interval '3 days'"), Date)
            elif isinstance(column.type, Text):
                values[column.name] = None if column.nullable else ""
        if values:
            await db.execute(update(table).where(table.c.intake_id.in_(ids)).values(values))
    # Meeting participants are JSON (names of professionals), not Text: emptied by name.
    await db.execute(update(CaseMeeting).where(CaseMeeting.intake_id.in_(ids)).values(participants=[]))
    # The intake's own timestamps, to the week.
    intakes: Table = Intake.__table__  # type: ignore[assignment]
    columns = intakes.columns
    await db.execute(
        update(intakes)
        .where(columns.id.in_(ids))
        .values({c.name: _week_sql(c) for c in columns if isinstance(c.type, DateTime)})
    )
    # Links other intakes had to these (possible duplicates, earlier and later intakes of hers).
    for erased_id in ids:
        for links in (columns.possible_duplicates, columns.previous_intakes, columns.later_intakes):
            await db.execute(
                update(intakes)
                .where(links.contains([erased_id]))
                .values({links.name: func.array_remove(links, erased_id)})
            )
    await db.execute(update(intakes).where(columns.merged_into.in_(ids)).values(merged_into=None))
    # Outbox events: codes stay; due moments and other intakes' ids go.
    await db.execute(
        text(
            """
            UPDATE events
               SET data = (data - 'mergedInto' - 'nextDeadlineAt' - 'dueAt' - 'dueDate' - 'possibleDuplicates')
              || CASE WHEN jsonb_typeof(data->'deadlines') = 'array' THEN jsonb_build_object('deadlines',
                   (SELECT coalesce(jsonb_agg(d - 'dueAt' - 'metAt'), '[]'::jsonb)
                      FROM jsonb_array_elements(data->'deadlines') d)) ELSE '{}'::jsonb END
            WHERE intake_id = ANY(:ids)
            """
        ),
        {"ids": ids},
    )


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
        facts = await statistics.load(db, intake.id)
        if facts is None:  # pragma: no cover - every intake gets its facts at receipt
            from app.intakes.service import load_bundle

            bundle = await load_bundle(db, intake.id)
            assert bundle is not None
            facts = await refresh_facts(db, bundle)
        await statistics.save(db, intake.id, statistics_facts.erased(facts))
        intake.client = None
        intake.partner = None
        intake.narrative = None
        intake.message = None
        intake.referrer = None
        intake.contact_preference = None
        intake.basis_justification = None
        intake.pregnancy = {"pregnant": bool(intake.pregnancy.get("pregnant"))}
        intake.children = []
        intake.bsn = intake.birth_date = intake.family_name_key = intake.postcode = intake.phone = None
        intake.possible_duplicates = []
        intake.previous_intakes = []
        intake.later_intakes = []
        intake.merged_into = None
        intake.next_deadline_at = None
        intake.routing = routing_codes(intake.routing)
        intake.erased_at = now
        intake.version += 1
    ids = [i.id for i in intakes]
    if ids:
        await db.flush()
        await _erase_records(db, ids)
        await audit.record(db, audit.SYSTEM, "erase", [(i, "retention") for i in ids])
        for intake in intakes:
            await db.refresh(intake)
    await db.flush()
    return len(ids)
