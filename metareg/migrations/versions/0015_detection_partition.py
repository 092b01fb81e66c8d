"""detection_partition: leases and watermarks of a partitioned check

Several `metareg run` workers on PostgreSQL share the checks partition by partition
(`metareg.checks.partitions`): each partition's row holds its lease (holder, expiry) and
what its last check judged (watermark, digest).

Revision ID: 0015_detection_partition
Revises: 0011_alert_block_fields
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_detection_partition"
# The checks' and alerts' branch: 0002 -> 0008 -> 0010 -> 0012 -> 0011.
down_revision = "0011_alert_block_fields"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detection_partition",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("watermark", sa.BigInteger(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("detection_partition")
