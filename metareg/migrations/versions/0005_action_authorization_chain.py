"""Index an authorization's actions by type and date (DC09 totals, authorization checks).

Revision ID: 0005_action_authorization_chain
Revises: 0001_core
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0005_action_authorization_chain"
down_revision = "0001_core"
branch_labels = None
depends_on = None

COLUMNS = [
    "cooperative_approach_id",
    "authorization_id",
    "action_type",
    "action_date",
    "first_id",
    "last_id",
]


def upgrade() -> None:
    op.create_index("ix_action_authorization_chain", "actions", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_action_authorization_chain", table_name="actions")
