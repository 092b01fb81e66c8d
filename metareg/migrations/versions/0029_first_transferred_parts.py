"""authorization_first_transferred_parts: the units first transferred per authorization
key, kept at write time on PostgreSQL

The full check summed every first transfer of each authorization key for DC09 (at 10M
blocks about 30 s of its first run after a load, read from the disk); SQLite has kept
these sums at write time since 0025. PostgreSQL now keeps them too, in parts (one row
per key and server process, so that writers never wait on each other), by row triggers
on `actions` (`metareg.index.first_transferred`); the parts are built here from the
rows already stored. SQLite gets nothing.

Revision ID: 0029_first_transferred_parts
Revises: 0027_inserts_untriggered
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from metareg.db.tables.approaches import APPROACH_ID_LENGTH
from metareg.index import first_transferred

revision = "0029_first_transferred_parts"
down_revision = "0027_inserts_untriggered"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.create_table(
        first_transferred.PARTS,
        sa.Column("cooperative_approach_id", sa.String(APPROACH_ID_LENGTH), nullable=False),
        sa.Column("authorization_id", sa.String(256), nullable=False),
        sa.Column("process", sa.Integer, nullable=False),
        sa.Column("units", sa.Numeric, nullable=False),
    )
    op.create_index(
        f"ix_{first_transferred.PARTS}_key",
        first_transferred.PARTS,
        ["cooperative_approach_id", "authorization_id"],
    )
    op.create_index(f"ix_{first_transferred.PARTS}_process", first_transferred.PARTS, ["process"])
    first_transferred.rebuild_parts(connection)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    for name in first_transferred.PARTS_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON actions")
    connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {first_transferred.FUNCTION}()")
    op.drop_table(first_transferred.PARTS)
