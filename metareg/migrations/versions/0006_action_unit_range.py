"""Store each issuance's parsed underlying units (DC03's screened pass).

Adds `underlying_prefix`, `underlying_first`, `underlying_last` to `actions`, fills
them for the rows already stored (parsed in Python with the very function the writer
uses, metareg.index.unitrange.derive), and indexes them: a partial index over the
parsed rows in (underlying registry, batch, first unit) order, and a small partial
index over the rows that have unit ids but no parsed range.

Revision ID: 0006_action_unit_range
Revises: 0001_core
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from metareg.index.unitrange import derive

revision = "0006_action_unit_range"
down_revision = "0001_core"
branch_labels = None
depends_on = None

BATCH = 20_000
RANGE_WHERE = "underlying_prefix IS NOT NULL"
UNPARSED_WHERE = (
    "underlying_prefix IS NULL AND first_unit_id IS NOT NULL AND underlying_registry_id IS NOT NULL"
)

_actions = sa.table(
    "actions",
    sa.column("id", sa.BigInteger()),
    sa.column("action_type", sa.String()),
    sa.column("underlying_registry_id", sa.String()),
    sa.column("first_unit_id", sa.String()),
    sa.column("last_unit_id", sa.String()),
    sa.column("underlying_prefix", sa.Text()),
    sa.column("underlying_first", sa.BigInteger()),
    sa.column("underlying_last", sa.BigInteger()),
)


def upgrade() -> None:
    op.add_column("actions", sa.Column("underlying_prefix", sa.Text(), nullable=True))
    op.add_column("actions", sa.Column("underlying_first", sa.BigInteger(), nullable=True))
    op.add_column("actions", sa.Column("underlying_last", sa.BigInteger(), nullable=True))
    backfill(op.get_bind())
    op.create_index(
        "ix_action_unit_range",
        "actions",
        ["underlying_registry_id", "underlying_prefix", "underlying_first", "underlying_last"],
        sqlite_where=sa.text(RANGE_WHERE),
        postgresql_where=sa.text(RANGE_WHERE),
    )
    op.create_index(
        "ix_action_unit_unparsed",
        "actions",
        ["underlying_registry_id"],
        sqlite_where=sa.text(UNPARSED_WHERE),
        postgresql_where=sa.text(UNPARSED_WHERE),
    )


def backfill(connection: sa.Connection) -> int:
    """Derive the columns of every issuance with unit ids, in id-keyed batches (each a
    bounded read, then its updates); returns how many rows got a parsed range."""
    t = _actions
    candidates = (
        sa.select(t.c.id, t.c.action_type, t.c.underlying_registry_id)
        .add_columns(t.c.first_unit_id, t.c.last_unit_id)
        .where(
            t.c.action_type == "Issuance",
            t.c.first_unit_id.is_not(None),
            t.c.underlying_registry_id.is_not(None),
            t.c.id > sa.bindparam("after"),
        )
        .order_by(t.c.id)
        .limit(BATCH)
    )
    update = (
        t.update()
        .where(t.c.id == sa.bindparam("row_id"))
        .values(
            underlying_prefix=sa.bindparam("prefix"),
            underlying_first=sa.bindparam("first"),
            underlying_last=sa.bindparam("last"),
        )
    )
    after, parsed = 0, 0
    while True:
        rows = connection.execute(candidates, {"after": after}).all()
        if not rows:
            return parsed
        changes = []
        for row_id, action_type, underlying, first_unit, last_unit in rows:
            prefix, first, last = derive(action_type, underlying, first_unit, last_unit)
            if prefix is not None:
                changes.append({"row_id": row_id, "prefix": prefix, "first": first, "last": last})
        if changes:
            connection.execute(update, changes)
        parsed += len(changes)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_action_unit_unparsed", table_name="actions")
    op.drop_index("ix_action_unit_range", table_name="actions")
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("underlying_last")
        batch.drop_column("underlying_first")
        batch.drop_column("underlying_prefix")
