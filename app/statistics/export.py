"""The research export, pure apart from its query: one CSV row per intake with standing
`research` consent; a keyed-hash pseudonym instead of any identifier, codes and numbers only."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.statistics import queries
from app.statistics.facts import PHASES
from app.statistics.models import IntakeFacts

COLUMNS = (
    "pseudonym",
    "ageYears",
    "pregnant",
    "weeksPregnant",
    "firstChild",
    "source",
    "referrerRole",
    "concernsAtRegistration",
    "concernsAfterAssessment",
    "vulnerability",
    "contacted",
    "assessedAtHome",
    "programmesDecided",
    "programmesStarted",
    *(f"{phase}WorkingDays" for phase in PHASES),
    *(f"{phase}State" for phase in PHASES),
    "closeReason",
)
DESCRIPTION = (
    "One row per intake with standing `research` consent (intakes closed because consent was withdrawn "
    "are left out). Columns: " + ", ".join(f"`{c}`" for c in COLUMNS) + ". Lists are `;`-separated codes. "
    "`pseudonym` is an HMAC-SHA256 of the intake id under a key only the service holds: stable across "
    "exports, not reversible. No names, dates, contact data, postcodes or free text."
)


def pseudonym(intake_id: object, key: bytes) -> str:
    return hmac.new(key, str(intake_id).encode(), hashlib.sha256).hexdigest()[:32]


async def consented(db: AsyncSession, region: str, start: date, end: date) -> list[IntakeFacts]:
    rows = await db.scalars(
        select(IntakeFacts)
        .where(
            *queries.in_period(region, start, end),
            IntakeFacts.research_consent.is_(True),
            IntakeFacts.close_reason.is_distinct_from("consent_withdrawn"),
        )
        .order_by(IntakeFacts.intake_id)
    )
    return list(rows.all())


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def to_csv(rows: Sequence[IntakeFacts], key: bytes) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in sorted(rows, key=lambda r: pseudonym(r.intake_id, key)):
        phases = row.phases or {}
        writer.writerow(
            [
                pseudonym(row.intake_id, key),
                "" if row.age_years is None else row.age_years,
                _flag(row.pregnant),
                "" if row.weeks_pregnant is None else row.weeks_pregnant,
                _flag(row.first_child),
                row.source,
                row.referrer_role or "",
                ";".join(row.concerns_at_registration),
                ";".join(sorted({c["code"] for c in row.concerns})) if row.assessed else "",
                row.vulnerability,
                _flag(row.contacted),
                _flag(row.assessed_at_home),
                ";".join(row.programmes_decided),
                ";".join(row.programmes_started),
                *("" if (phases.get(p) or {}).get("workingDays") is None else phases[p]["workingDays"] for p in PHASES),
                *((phases.get(p) or {}).get("state", "") for p in PHASES),
                row.close_reason or "",
            ]
        )
    return out.getvalue()
