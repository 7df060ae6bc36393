"""region policy versions, the admin trail, the policy version of each deadline

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 05:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'region_policies',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('region', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('policy', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_region_policies')),
        sa.UniqueConstraint('region', 'version', name='uq_region_policies_region_version'),
    )
    op.create_table(
        'admin_trail',
        sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('region', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('organisation', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=200), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=False),
        sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_admin_trail')),
    )
    op.create_index('ix_admin_trail_region_seq', 'admin_trail', ['region', 'seq'], unique=False)
    # The trail is append-only, like the access log.
    op.execute(
        "CREATE FUNCTION admin_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'admin_trail is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER admin_trail_append_only BEFORE UPDATE OR DELETE ON admin_trail "
        "FOR EACH ROW EXECUTE FUNCTION admin_trail_append_only()"
    )
    op.add_column('deadlines', sa.Column('policy_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('deadlines', 'policy_version')
    op.execute("DROP TRIGGER IF EXISTS admin_trail_append_only ON admin_trail")
    op.execute("DROP FUNCTION IF EXISTS admin_trail_append_only()")
    op.drop_index('ix_admin_trail_region_seq', table_name='admin_trail')
    op.drop_table('admin_trail')
    op.drop_table('region_policies')
