"""sync_state: the last failure's class and the staleness limit the checks judge SY01 by

The operational alerts are judged by the checks from what the sync side committed, so
sync health keeps what SY01 needs: the class of the last failure and the registry's
configured staleness limit (written with each sync attempt).

Revision ID: 0009_sync_state_health
Revises: 0001_core
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_sync_state_health"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_state", sa.Column("last_error_kind", sa.String(length=32), nullable=True))
    op.add_column("sync_state", sa.Column("staleness_limit_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("staleness_limit_seconds")
        batch.drop_column("last_error_kind")
