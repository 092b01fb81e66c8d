"""A tracking pass notes each page's identities in one row per record type

`sync_seen` took one row per identity a complete listing named, each written into the
table and its primary key index: in a first sync of two registries of the 1M world
(514,071 records) that bookkeeping cost about a tenth of the sync. A tracking pass (a
listing over an index that holds nothing of the registry yet, or a holdings snapshot)
needs only the identities, so it now writes one row per page and record type with them
as a JSON array (`sync_listed`); the listing's end reads them back in one statement.
Staged passes keep their latest operation per identity in `sync_seen` as before, and
a tracking pass begun before this revision still counts the rows it wrote there.

Revision ID: 0028_sync_listed
Revises: 0003_sync
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_sync_listed"
down_revision = "0003_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_listed",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("uids", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sync_listed_scope", "sync_listed", ["registry_id", "scope", "record_type"])


def downgrade() -> None:
    op.drop_index("ix_sync_listed_scope", table_name="sync_listed")
    op.drop_table("sync_listed")
