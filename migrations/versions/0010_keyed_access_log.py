"""the access log sealed with a key the database does not hold: key_id per row

Rows written before (key_id NULL) keep their plain SHA-256 seal and are verified as the
chain's beginning (app.audit.service.verify_chain).

Revision ID: 0010_keyed_access_log
Revises: 0009_case_fact_corrections
Create Date: 2026-12-06 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_keyed_access_log"
down_revision: str | None = "0009_case_fact_corrections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("access_log", sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("access_log", "key_id")
