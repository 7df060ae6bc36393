"""The case's own records. Every column that holds her or a professional's personal data is
`Text` (names, contact details, summaries, agreements, notes): retention empties every `Text`
column of an intake's rows (app.jobs.retention); meeting participants (JSON) are emptied
there by name. Each row names who recorded it (client, organisation, user) for the case file."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.cases.rules import Actor
from app.db import Base


class RecordedBy:
    """Who recorded the row (client, organisation, user): the case file names them."""

    recorded_by_client: Mapped[str] = mapped_column(String(64))
    recorded_by_organisation: Mapped[str] = mapped_column(String(64))
    recorded_by_user: Mapped[str | None] = mapped_column(String(200))

    def recorder(self) -> Actor:
        return Actor(self.recorded_by_organisation, self.recorded_by_client, self.recorded_by_user)


class CoordinatorAssignment(RecordedBy, Base):
    """Append-only history of who coordinates the case; the current one has `until` NULL."""

    __tablename__ = "case_coordinators"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime]
    until: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_case_coordinators_current", "intake_id", unique=True, postgresql_where=text("until IS NULL")),
        # The worklist filter coordinator=USERID.
        Index("ix_case_coordinators_user", "user_id", postgresql_where=text("until IS NULL")),
    )


class Involvement(RecordedBy, Base):
    """A professional around her, recorded by staff or from a joint intake. Derived ones
    (referrers, handoffs) are not stored: they are read from the referral and the handoffs."""

    __tablename__ = "case_involvements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    organisation: Mapped[str | None] = mapped_column(String(64))  # a known organisation's code
    organisation_name: Mapped[str | None] = mapped_column(Text)
    professional_name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime]
    until: Mapped[datetime | None]
    recorded_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_by_client: Mapped[str | None] = mapped_column(String(64))
    ended_by_organisation: Mapped[str | None] = mapped_column(String(64))
    ended_by_user: Mapped[str | None] = mapped_column(String(200))


class CaseMeeting(RecordedBy, Base):
    __tablename__ = "case_meetings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    at: Mapped[datetime]
    participants: Mapped[list[Any]]  # personal data (names): emptied by retention
    summary: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]


class Agreement(Base):
    __tablename__ = "case_agreements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_meetings.id"), index=True)
    position: Mapped[int]
    what: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date]
    done_at: Mapped[datetime | None]
    done_note: Mapped[str | None] = mapped_column(Text)
    done_by_client: Mapped[str | None] = mapped_column(String(64))
    done_by_organisation: Mapped[str | None] = mapped_column(String(64))
    done_by_user: Mapped[str | None] = mapped_column(String(200))
    overdue_emitted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]  # the case closed before it was done

    __table_args__ = (
        # The monitor's queue and the worklist filter: open agreements by due date.
        Index(
            "ix_case_agreements_open_due",
            "due_date",
            postgresql_where=text("done_at IS NULL AND cancelled_at IS NULL"),
        ),
    )


class CaseNote(RecordedBy, Base):
    __tablename__ = "case_notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]


class FactCorrection(RecordedBy, Base):
    """That staff corrected facts setting the deadlines (PATCH /intakes/{id}), for the case
    file: which facts, the safety concern as it now is, and why. The corrected values themselves
    (a due date) stay on the intake only."""

    __tablename__ = "case_fact_corrections"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id"), index=True)
    at: Mapped[datetime]
    fields: Mapped[list[Any]]  # names only: "pregnancy", "safetyConcern"
    safety_concern: Mapped[bool | None]
    reason: Mapped[str | None] = mapped_column(Text)
