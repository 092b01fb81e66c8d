"""detection_partition.judged: what a partition's last check judged

A partition's check continues from its last one (`metareg.checks.partitions`): it needs
the grace cutoff, the synced registries and their `acts_for` that check judged by, as
`detection_state` keeps them for the single-process check. Rows without it (checked
before this revision) are judged whole once.

Revision ID: 0022_detection_partition_judged
Revises: 0017_first_transfer_totals
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022_detection_partition_judged"
down_revision = "0017_first_transfer_totals"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("detection_partition", sa.Column("judged", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("detection_partition") as batch:
        batch.drop_column("judged")
