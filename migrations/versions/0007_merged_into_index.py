"""index of merged referrals: their referrers follow the case they were merged into

Revision ID: 0007_merged_into_index
Revises: 0006_case
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_merged_into_index"
down_revision: str | None = "0006_case"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_intakes_merged_into", "intakes", ["merged_into"], postgresql_where=sa.text("merged_into IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_intakes_merged_into", table_name="intakes")
