"""Provisional cooperative approaches: the `cooperative_approaches` table, and approach id
columns wide enough for `CAP-` ids (RECORDS.md: up to 36 characters).

SQLite does not enforce a VARCHAR length, so the widening runs on PostgreSQL only (a
batch rebuild of SQLite's largest tables would gain nothing).

Revision ID: 0008_cooperative_approaches
Revises: 0002_alerts
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_cooperative_approaches"
# It widens columns of 0001_core's tables and of 0002_alerts' `alert`, so it continues
# the alerts branch (which continues 0001_core).
down_revision = "0002_alerts"
branch_labels = None
depends_on = None

WIDENED = ("actions", "holdings", "authorizations", "block_span", "alert")
OLD, NEW = 6, 36


def _widen(length: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in WIDENED:
        op.alter_column(
            table,
            "cooperative_approach_id",
            type_=sa.String(length=length),
            existing_nullable=table == "alert",
        )


def upgrade() -> None:
    op.create_table(
        "cooperative_approaches",
        sa.Column("id", sa.String(length=NEW), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("folded_into", sa.String(length=NEW), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _widen(NEW)


def downgrade() -> None:
    _widen(OLD)
    op.drop_table("cooperative_approaches")
