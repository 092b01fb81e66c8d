"""authorization_first_transferred: the units first transferred per authorization key,
kept at write time (SQLite)

The authorization check reports how much of an authorization is left, which summed
every first transfer of the key on each request that found no remembered sum
(`metareg.index.first_transferred`). SQLite's triggers on `actions` now keep the sum
per key; the table is built here from the rows already stored. PostgreSQL gets the
(unused) table and no triggers: its callers sum.

Revision ID: 0025_first_transferred_kept
Revises: 0001_core
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from metareg.db.tables.approaches import APPROACH_ID_LENGTH
from metareg.db.types import Serial
from metareg.index import first_transferred

revision = "0025_first_transferred_kept"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        first_transferred.TABLE,
        sa.Column("cooperative_approach_id", sa.String(APPROACH_ID_LENGTH), nullable=False),
        sa.Column("authorization_id", sa.String(256), nullable=False),
        sa.Column("units", Serial, nullable=False),
        sa.PrimaryKeyConstraint("cooperative_approach_id", "authorization_id"),
    )
    if first_transferred.kept(op.get_bind()):  # SQLite: the triggers, the table from `actions`
        first_transferred.ensure(op.get_bind())


def downgrade() -> None:
    connection = op.get_bind()
    if first_transferred.kept(connection):
        for name in first_transferred.trigger_names():
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table(first_transferred.TABLE)
