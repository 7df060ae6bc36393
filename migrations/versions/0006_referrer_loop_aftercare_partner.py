"""the referrer's loop, aftercare and return: partner, links to earlier/later intakes, reopenings

Revision ID: 0006_referrer_loop
Revises: 0005
Create Date: 2026-12-06 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_referrer_loop"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("intakes", sa.Column("partner", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    for name in ("previous_intakes", "later_intakes"):
        op.add_column(
            "intakes",
            sa.Column(name, postgresql.ARRAY(sa.UUID()), server_default=sa.text("'{}'::uuid[]"), nullable=False),
        )
    op.add_column("intakes", sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_intakes_bsn_closed",
        "intakes",
        ["bsn"],
        postgresql_where=sa.text("closed_at IS NOT NULL AND erased_at IS NULL AND bsn IS NOT NULL"),
    )
    op.create_index(
        "ix_intakes_match_closed",
        "intakes",
        ["birth_date", "family_name_key"],
        postgresql_where=sa.text("closed_at IS NOT NULL AND erased_at IS NULL"),
    )
    op.create_index(
        "ix_intakes_referrer_received", "intakes", ["referrer_organisation_id", "received_at", "id"], unique=False
    )
    op.create_table(
        "intake_reopenings",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("intake_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("previous_close_reason", sa.String(length=32), nullable=True),
        sa.Column("reopened_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["intakes.id"], name=op.f("fk_intake_reopenings_intake_id_intakes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_reopenings")),
    )
    op.create_index(op.f("ix_intake_reopenings_intake_id"), "intake_reopenings", ["intake_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_intake_reopenings_intake_id"), table_name="intake_reopenings")
    op.drop_table("intake_reopenings")
    op.drop_index("ix_intakes_referrer_received", table_name="intakes")
    op.drop_index("ix_intakes_match_closed", table_name="intakes")
    op.drop_index("ix_intakes_bsn_closed", table_name="intakes")
    for name in ("reopened_at", "later_intakes", "previous_intakes", "partner"):
        op.drop_column("intakes", name)
