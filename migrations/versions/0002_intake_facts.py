"""intake_facts: the coded facts statistics keep, also after erasure

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 05:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'intake_facts',
        sa.Column('intake_id', sa.UUID(), nullable=False),
        sa.Column('region', sa.String(length=64), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=True),
        sa.Column('received_week', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('referrer_role', sa.String(length=32), nullable=True),
        sa.Column('age_years', sa.Integer(), nullable=True),
        sa.Column('pregnant', sa.Boolean(), nullable=False),
        sa.Column('weeks_pregnant', sa.Integer(), nullable=True),
        sa.Column('first_child', sa.Boolean(), nullable=True),
        sa.Column('concerns_at_registration', postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column('concerns', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('safety_concern', sa.Boolean(), nullable=False),
        sa.Column('vulnerability_at_registration', sa.String(length=32), nullable=False),
        sa.Column('vulnerability', sa.String(length=32), nullable=False),
        sa.Column('contacted', sa.Boolean(), nullable=False),
        sa.Column('contact_attempts', sa.Integer(), nullable=False),
        sa.Column('assessed', sa.Boolean(), nullable=False),
        sa.Column('assessed_at_home', sa.Boolean(), nullable=False),
        sa.Column('programme_recommended', sa.String(length=64), nullable=True),
        sa.Column('programmes_decided', postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column('programmes_offered', postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column('programmes_accepted', postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column('programmes_declined', postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column('programmes_started', postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column('phases', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('close_reason', sa.String(length=32), nullable=True),
        sa.Column('research_consent', sa.Boolean(), nullable=False),
        sa.Column('erased', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], name=op.f('fk_intake_facts_intake_id_intakes')),
        sa.PrimaryKeyConstraint('intake_id', name=op.f('pk_intake_facts')),
    )
    op.create_index('ix_intake_facts_region_period', 'intake_facts', ['region', 'received_week'], unique=False)
    # Intakes that already exist get their facts from what is still stored. Lead times are
    # not reconstructed here (`phases` stays empty); erased intakes keep only their week.
    op.execute(
        """
        INSERT INTO intake_facts
        SELECT i.id, i.region,
               CASE WHEN i.erased_at IS NULL THEN (i.received_at AT TIME ZONE 'Europe/Amsterdam')::date END,
               date_trunc('week', i.received_at AT TIME ZONE 'Europe/Amsterdam')::date + 3,
               i.source, i.referrer->>'role',
               CASE WHEN i.birth_date IS NOT NULL THEN
                 extract(year FROM age((i.received_at AT TIME ZONE 'Europe/Amsterdam')::date, i.birth_date))::int END,
               coalesce((i.pregnancy->>'pregnant')::boolean, false),
               CASE WHEN i.pregnancy ? 'dueDate' THEN
                 floor((280 - ((i.pregnancy->>'dueDate')::date
                        - (i.received_at AT TIME ZONE 'Europe/Amsterdam')::date)) / 7.0)::int END,
               (i.pregnancy->>'firstChild')::boolean,
               coalesce(ARRAY(SELECT c->>'code' FROM jsonb_array_elements(i.concerns) c
                              WHERE c->>'source' IN ('referral', 'self') ORDER BY 1), '{}'),
               i.concerns, i.safety_concern, i.vulnerability, i.vulnerability,
               EXISTS (SELECT 1 FROM intake_contacts x WHERE x.intake_id = i.id AND x.reached),
               (SELECT count(*) FROM intake_contacts x WHERE x.intake_id = i.id),
               EXISTS (SELECT 1 FROM intake_assessments a WHERE a.intake_id = i.id),
               EXISTS (SELECT 1 FROM intake_assessments a WHERE a.intake_id = i.id AND a.location = 'home'),
               i.routing->'recommendation'->>'programme',
               ARRAY(SELECT DISTINCT p FROM (SELECT h.programme p FROM handoffs h WHERE h.intake_id = i.id
                                            UNION SELECT i.decided_programme) d WHERE p IS NOT NULL ORDER BY 1),
               ARRAY(SELECT DISTINCT h.programme FROM handoffs h WHERE h.intake_id = i.id ORDER BY 1),
               ARRAY(SELECT DISTINCT h.programme FROM handoffs h
                     WHERE h.intake_id = i.id AND h.accepted_at IS NOT NULL ORDER BY 1),
               ARRAY(SELECT DISTINCT h.programme FROM handoffs h
                     WHERE h.intake_id = i.id AND h.declined_at IS NOT NULL ORDER BY 1),
               ARRAY(SELECT DISTINCT h.programme FROM handoffs h
                     WHERE h.intake_id = i.id AND h.support_started_at IS NOT NULL ORDER BY 1),
               '{}'::jsonb, i.status, i.close_reason,
               coalesce((SELECT c.given FROM consents c WHERE c.intake_id = i.id AND c.scope = 'research'
                         ORDER BY c.recorded_at DESC LIMIT 1), false),
               i.erased_at IS NOT NULL
        FROM intakes i
        """
    )


def downgrade() -> None:
    op.drop_index('ix_intake_facts_region_period', table_name='intake_facts')
    op.drop_table('intake_facts')
