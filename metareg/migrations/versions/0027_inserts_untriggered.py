"""Inserts into `actions` and `holdings` carry no trigger: the copies fold them by id

The columnar copy (`index_columns`, 0016) and the first transfers' totals
(`authorization_first_transferred`, 0025) were kept by SQLite triggers on every
insert, update and delete. An insert trigger cost every inserted row about a third of
its insert, whether or not it fired, and an ingest inserts nearly every row it writes.
Now each copy keeps the largest row id it has folded (`index_folded`,
`metareg.db.triggers.folded`) and takes the rows inserted past it from the table by
id, in the writer's transaction; the update and delete triggers stay (the totals' ones
now count only rows up to the mark, and lower it when the rows at the top are deleted).
Both copies are complete here, so their marks start at each table's largest id.
PostgreSQL keeps no copy: it gets the (unused) table.

Revision ID: 0027_inserts_untriggered
Revises: 0022_detection_partition_judged (after 0016_index_columns), 0025_first_transferred_kept
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from metareg.db import triggers
from metareg.index import columns, first_transferred

revision = "0027_inserts_untriggered"
down_revision = ("0022_detection_partition_judged", "0025_first_transferred_kept")
branch_labels = None
depends_on = None


def _copies() -> list[tuple[list[str], list[str]]]:
    """Each copy's trigger names, former ones included, and its statements now."""
    return [
        (
            [
                f"{columns.STORE}_{name}_{event}"
                for name in columns.TABLES.values()
                for event in (*columns.FORMER_EVENTS, *columns.EVENTS)
            ],
            columns.trigger_statements(),
        ),
        (
            [
                f"{first_transferred.TABLE}_{event}"
                for event in (*first_transferred.FORMER_EVENTS, *first_transferred.EVENTS)
            ],
            first_transferred.trigger_statements(),
        ),
    ]


def upgrade() -> None:
    connection = op.get_bind()
    triggers.ensure_marks(connection)
    if not columns.kept(connection):
        return
    for names, statements in _copies():
        for name in names:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        for statement in statements:
            connection.exec_driver_sql(statement)
    for kind, table in columns.TABLES.items():
        triggers.fold_to(connection, columns.mark_name(kind), table)
    triggers.fold_to(connection, first_transferred.MARK, "actions")


def downgrade() -> None:
    # The copies are rebuilt, with the triggers of their own migrations, by the code
    # of the revision that runs them (`columns.load`, `first_transferred.ensure`, which
    # rebuild a copy whose triggers they do not find).
    connection = op.get_bind()
    if columns.kept(connection):
        for names, _ in _copies():
            for name in names:
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table(triggers.MARKS)
