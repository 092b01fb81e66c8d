"""sync: leases, complete-listing passes, reconciliation results

Revision ID: 0003_sync
Revises: 0001_core
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sync"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_lease",
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("registry_id"),
    )
    op.create_table(
        "sync_seen",
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=600), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("registry_id", "scope", "record_type", "uid"),
    )
    op.create_table(
        "sync_pass",
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("registry_id", "scope"),
    )
    op.create_table(
        "sync_reconciliation",
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("registry_id"),
    )


def downgrade() -> None:
    op.drop_table("sync_reconciliation")
    op.drop_table("sync_pass")
    op.drop_table("sync_seen")
    op.drop_table("sync_lease")
