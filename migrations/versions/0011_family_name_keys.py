"""family_name_key recomputed: invisible characters removed, NFKC + case folding

Keys written before were the name in lower case with only zero-width and bidi controls
removed, so a name with a tag character, a Hangul filler or a full-width letter was not
matched with the same name written plainly (app.names.match_key). The key is recomputed from
the old key (the name itself is not needed: match_key of the old key is match_key of the
name). There is nothing to undo: the downgrade keeps the new keys.

Revision ID: 0011_family_name_keys
Revises: 0010_keyed_access_log
Create Date: 2026-12-06 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.names import match_key

revision: str = "0011_family_name_keys"
down_revision: str | None = "0010_keyed_access_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, family_name_key FROM intakes WHERE family_name_key IS NOT NULL FOR UPDATE")
    ).all()
    for intake_id, old in rows:
        new = match_key(old)
        if new != old:
            connection.execute(
                sa.text("UPDATE intakes SET family_name_key = :key WHERE id = :id"), {"key": new, "id": intake_id}
            )


def downgrade() -> None:
    pass
