"""Give the parsed-units index the row id (PostgreSQL).

DC03's screened pass (`metareg.detection.passes.units`) reads the id and the parsed
underlying units of every issuance that has them, in (underlying registry, batch,
first unit) order. SQLite reads that from `ix_action_unit_range` alone (its indexes
hold the row id); PostgreSQL, without the id in the index, read the whole `actions`
table and sorted the rows (at 10M blocks: a parallel scan of 7.3 GB and an external
sort, 5-10 s). With the id included, the index answers the query in its order, from
the index alone on the pages VACUUM has marked all-visible (`metareg.index.statistics`).

Revision ID: 0024_action_unit_range_ids
Revises: 0006_action_unit_range
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_action_unit_range_ids"
down_revision = "0006_action_unit_range"
branch_labels = None
depends_on = None

NAME = "ix_action_unit_range"
COLUMNS = ["underlying_registry_id", "underlying_prefix", "underlying_first", "underlying_last"]
WHERE = "underlying_prefix IS NOT NULL"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _create(include: list[str]) -> None:
    op.create_index(
        NAME, "actions", COLUMNS, postgresql_where=sa.text(WHERE), postgresql_include=include
    )


def upgrade() -> None:
    if _postgresql():
        op.drop_index(NAME, table_name="actions", if_exists=True)
        _create(["id"])


def downgrade() -> None:
    if _postgresql():
        op.drop_index(NAME, table_name="actions")
        _create([])
