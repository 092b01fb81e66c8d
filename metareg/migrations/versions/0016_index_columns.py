"""index_columns: a columnar copy of the current block records (SQLite)

`index_columns` holds the screened columns of every current action and holding as
segments of packed records (`metareg.index.columns`); `index_columns_dirty` the row ids
SQLite triggers note on every insert, update and delete of `actions` and `holdings`,
folded into the segments by the index writer and by the check. The copy is built here
from the rows already stored. PostgreSQL gets the (unused) tables and no triggers: its
check aggregates in the server. (A later migration that rebuilds `actions` or
`holdings` in SQLite's batch mode drops their triggers: `columns.load` then finds them
missing, creates them again and rebuilds the copy.)

Revision ID: 0016_index_columns
Revises: 0015_detection_partition
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from metareg.index import columns

revision = "0016_index_columns"
down_revision = "0015_detection_partition"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        columns.STORE,
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("segment", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "segment"),
    )
    op.create_table(
        columns.DIRTY,
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
    )
    connection = op.get_bind()
    if columns.kept(connection):
        for statement in columns.trigger_statements():
            connection.exec_driver_sql(statement)
        columns.rebuild(connection)


def downgrade() -> None:
    connection = op.get_bind()
    if columns.kept(connection):
        for name in columns.trigger_names():
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table(columns.DIRTY)
    op.drop_table(columns.STORE)
