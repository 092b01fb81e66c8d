"""quarantine review and reprocessing; sync_state.last_quarantine_share

A quarantined row can be dismissed with a note (who, when) or re-mapped with the current
source profile (`metareg quarantine reprocess`): it keeps the profile, parameters and
cells it was read with (`origin`). Sync health keeps the largest share of a page the
last sync quarantined, so a sync that quarantined most of what it read is not `ok`.

Revision ID: 0013_quarantine_review
Revises: 0009_sync_state_health
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013_quarantine_review"
# Both tables are in 0001_core; 0009 last changed sync_state.
down_revision = "0009_sync_state_health"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("quarantine", sa.Column("origin", _json(), nullable=True))
    op.add_column("quarantine", sa.Column("reviewed_by", sa.String(length=200), nullable=True))
    op.add_column("quarantine", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("quarantine", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("sync_state", sa.Column("last_quarantine_share", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("last_quarantine_share")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("note")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
        batch.drop_column("origin")
