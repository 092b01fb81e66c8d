"""Give the block indexes of `actions` and `holdings` the block's `last_id`.

Every read of the blocks meeting a range (the incremental check's pair hulls and
regions, the authorization check, the API's look-ups: `metareg.detection.read.blocks`,
`metareg.index.query`) seeks (approach, registry, first_id) from the range's start less
the pair's longest block and keeps the rows with `last_id >= first`. With `last_id` in
the index that test is made on the index entry, so a block ending before the range
costs no look-up of its row, and the incremental check's hulls (min first_id, max
last_id) are read from the index alone. Measured on the 1M world's 1,000-record
increment: its pair hulls 20-21 ms before, 14 ms after (docs/benchmarks.md, stop 33).

Revision ID: 0026_block_index_last_id
Revises: 0001_core
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0026_block_index_last_id"
down_revision = "0001_core"
branch_labels = None
depends_on = None

BLOCK = ["cooperative_approach_id", "party_registry_id", "first_id"]
INDEXES = (("ix_action_block", "actions"), ("ix_holding_block", "holdings"))


def _rebuild(columns: list[str]) -> None:
    for name, table in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)


def upgrade() -> None:
    _rebuild([*BLOCK, "last_id"])


def downgrade() -> None:
    _rebuild(BLOCK)
