"""handoffs: several live per intake (one per programme), first_contact and ended states,
each with its own support-start due moment

Revision ID: 0008_handoff_states
Revises: 0007_merged_into_index
Create Date: 2026-12-06 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_handoff_states"
down_revision: str | None = "0007_merged_into_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('offered', 'accepted', 'first_contact', 'support_started')"


def upgrade() -> None:
    op.add_column("handoffs", sa.Column("offer_reason", sa.Text(), nullable=True))
    op.add_column("handoffs", sa.Column("support_start_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("handoffs", sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("handoffs", sa.Column("end_reason", sa.String(length=32), nullable=True))
    op.add_column("handoffs", sa.Column("end_note", sa.Text(), nullable=True))
    # A first contact used to be a moment on an accepted handoff; it is a state now.
    op.execute("UPDATE handoffs SET status = 'first_contact' WHERE status = 'accepted' AND first_contact_at IS NOT NULL")
    # Handoffs offered before this had only the intake's support-start deadline: keep that one.
    op.execute(
        """
        UPDATE handoffs h SET support_start_due_at = d.due_at
        FROM deadlines d
        WHERE d.intake_id = h.intake_id AND d.phase = 'support_start' AND h.support_start_due_at IS NULL
        """
    )
    op.create_index(
        "uq_handoffs_live_programme",
        "handoffs",
        ["intake_id", "programme"],
        unique=True,
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_handoffs_live_programme", table_name="handoffs")
    op.execute("UPDATE handoffs SET status = 'accepted' WHERE status = 'first_contact'")
    op.execute("UPDATE handoffs SET status = 'support_started' WHERE status = 'ended'")
    for column in ("end_note", "end_reason", "ended_at", "support_start_due_at", "offer_reason"):
        op.drop_column("handoffs", column)
