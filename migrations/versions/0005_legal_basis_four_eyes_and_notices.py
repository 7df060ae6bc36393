"""legal basis records (meldcode four eyes) and the notice mark on webhook deliveries

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_bases",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("intake_id", sa.UUID(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_client", sa.String(length=64), nullable=False),
        sa.Column("requested_by_user", sa.String(length=200), nullable=True),
        sa.Column("requested_by_organisation", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_client", sa.String(length=64), nullable=True),
        sa.Column("confirmed_by_user", sa.String(length=200), nullable=True),
        sa.Column("confirmed_by_organisation", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["intake_id"], ["intakes.id"], name=op.f("fk_legal_bases_intake_id_intakes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_bases")),
    )
    op.create_index(op.f("ix_legal_bases_intake_id"), "legal_bases", ["intake_id"], unique=False)
    op.create_index(
        "uq_legal_bases_one_pending",
        "legal_bases",
        ["intake_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    # The referrer's own meldcode referrals so far: confirmed rows, so the case file has them.
    op.execute(
        """
        INSERT INTO legal_bases (id, intake_id, basis, source, status, justification, requested_at,
                                 requested_by_client, requested_by_organisation, confirmed_at)
        SELECT gen_random_uuid(), i.id, 'meldcode', 'referral', 'confirmed', i.basis_justification, i.received_at,
               coalesce(i.created_by_client, ''), coalesce(o.code, ''), i.received_at
        FROM intakes i LEFT JOIN organisations o ON o.id = i.referrer_organisation_id
        WHERE i.legal_basis = 'meldcode'
        """
    )
    op.add_column(
        "webhook_deliveries", sa.Column("notice", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("webhook_deliveries", "notice")
    op.drop_index("uq_legal_bases_one_pending", table_name="legal_bases", postgresql_where=sa.text("status = 'pending'"))
    op.drop_index(op.f("ix_legal_bases_intake_id"), table_name="legal_bases")
    op.drop_table("legal_bases")
