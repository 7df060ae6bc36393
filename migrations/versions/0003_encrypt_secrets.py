"""encrypt private signing keys and webhook secrets at rest

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Existing clear values are encrypted with the first configured encryption key (app.crypto);
values that already open with a configured key are left alone, so running it again is safe.
The downgrade decrypts them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app import crypto

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _rewrite(encrypting: bool) -> None:
    keys = crypto.box_or_load()
    connection = op.get_bind()
    for table, column, primary_key in crypto.ENCRYPTED_COLUMNS:
        rows = connection.execute(
            sa.text(f"SELECT {primary_key}, {column} FROM {table} WHERE {column} IS NOT NULL FOR UPDATE")
        ).all()
        for key, value in rows:
            encrypted = crypto.is_encrypted(value, keys)
            if encrypting and not encrypted:
                new = keys.encrypt(value.encode()).decode()
            elif not encrypting and encrypted:
                new = keys.decrypt(value.encode()).decode()
            else:
                continue
            connection.execute(
                sa.text(f"UPDATE {table} SET {column} = :value WHERE {primary_key} = :key"),
                {"value": new, "key": key},
            )


def upgrade() -> None:
    _rewrite(encrypting=True)


def downgrade() -> None:
    _rewrite(encrypting=False)
