"""sync_withdrawal_hold: withdrawals a complete listing would make, held back

A complete listing that would withdraw more than a configured share of a registry's
current records (an empty "complete" listing after a cursor reset, a page of holes) is
not applied: its withdrawals wait here until an admin confirms them or the registry
repeats the same listing on the next poll (SY04 meanwhile).

Revision ID: 0014_sync_withdrawal_hold
Revises: 0013_quarantine_review
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_sync_withdrawal_hold"
down_revision = "0013_quarantine_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_withdrawal_hold",
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("withdrawals", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("withdraw_count", sa.Integer(), nullable=False),
        sa.Column("current_count", sa.Integer(), nullable=False),
        sa.Column("share_limit", sa.Float(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("registry_id", "scope"),
    )


def downgrade() -> None:
    op.drop_table("sync_withdrawal_hold")
