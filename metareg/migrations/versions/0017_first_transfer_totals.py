"""first_transfer_totals: DC09's total per authorization key, as of a watermark

The checks keep, per authorization key, the units first transferred under it as of
the `record_version` id they judged (`metareg.checks.first_transfer_totals`), so an
incremental check continues the total from the changed actions instead of summing
every first transfer of the key again.

Revision ID: 0017_first_transfer_totals
Revises: 0016_index_columns
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_first_transfer_totals"
# The checks' and alerts' branch: ... -> 0011 -> 0015 -> 0016 -> 0017.
down_revision = "0016_index_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detection_first_transfer_total",
        sa.Column("cooperative_approach_id", sa.String(length=36), nullable=False),
        sa.Column("authorization_id", sa.String(length=256), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("upto", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cooperative_approach_id", "authorization_id"),
    )


def downgrade() -> None:
    op.drop_table("detection_first_transfer_total")
