"""The units first transferred under each authorization, kept at write time (SQLite).

`POST /v1/checks/authorization` reports how much of an authorization is left: the sum
of the first transfers under its key (cooperative approach, authorization id; DC09's
all-time total). Summed when asked, that reads every first transfer of the key (at 1M
blocks of the bench world, up to ~17,700 index entries, 3-4 ms), and any write forgot
every remembered sum (`metareg.detection.read.cached_totals`): a fresh API process, or
one after each sync's commit, spent its first requests summing.

`authorization_first_transferred` holds the sum per key over the rows of `actions` up
to a mark (`db.triggers.folded`), kept in the same transaction as the write: `fold`
adds the first transfers inserted past the mark, by row id, in one statement, and moves
the mark to the table's largest id (the index writer folds at the end of each batch;
an insert trigger cost every inserted row about a third of its insert); SQLite
triggers take a counted row's units out when it is deleted, and out and in again
when it is updated (whatever changed: its type, its key or its range). The delete
trigger also lowers the mark when the rows at the top are gone, since SQLite gives
their ids again. A key whose first transfers are all gone keeps a row of 0 units, as
the sum of nothing is. `units` answers from the table only when nothing is past the
mark (rows inserted by something that did not fold, until the next check folds them),
so every answer equals the SQL sum over the reader's snapshot of `actions`.

The triggers can be missing: a later migration that rebuilds `actions` in SQLite's
batch mode drops them. Then `units` answers None (the caller sums, as before) until
`ensure`, which each check runs under the write lock, creates them again and rebuilds
the table from `actions`, both in one transaction. PostgreSQL has the table, unused,
and no triggers (its writers of different registries would queue on a key's row): its
callers sum.
"""

from __future__ import annotations

from sqlalchemy import Connection

from metareg.db import triggers
from metareg.db.sums import joined_in_sql

TABLE = "authorization_first_transferred"
COUNTED = "First transfer"  # RULES.md DC09: the first transfers count
EVENTS = ("update", "delete")
# Named by the migration that drops it (0027): inserts are folded by row id now.
FORMER_EVENTS = ("insert",)
MARK = TABLE  # its mark (`db.triggers.folded`): the rows of `actions` counted
_KEY = "cooperative_approach_id, authorization_id"
_COUNTED_UP_TO = f"coalesce((SELECT last_id FROM {triggers.MARKS} WHERE name = '{MARK}'), 0)"
_ADD = (
    f"INSERT INTO {TABLE} ({_KEY}, units) "
    "SELECT NEW.cooperative_approach_id, NEW.authorization_id, NEW.last_id - NEW.first_id + 1 "
    f"WHERE NEW.action_type = '{COUNTED}' AND NEW.authorization_id IS NOT NULL "
    f"AND NEW.id <= {_COUNTED_UP_TO} "
    f"ON CONFLICT ({_KEY}) DO UPDATE SET units = units + excluded.units;"
)
_SUBTRACT = (
    f"UPDATE {TABLE} SET units = units - (OLD.last_id - OLD.first_id + 1) "
    "WHERE cooperative_approach_id = OLD.cooperative_approach_id "
    f"AND authorization_id = OLD.authorization_id AND OLD.action_type = '{COUNTED}' "
    f"AND OLD.id <= {_COUNTED_UP_TO};"
)
# The columns a first transfer's count depends on: an update of any other leaves it.
_COUNTED_COLUMNS = "action_type, cooperative_approach_id, authorization_id, first_id, last_id"
# SQLite's `+` turns an integer that would pass 2**63 into a float (its `sum()` raises):
# a key whose total ever did is stored inexact, and never answered from here.
_UNITS = (
    f"SELECT units, typeof(units) FROM {TABLE} "
    "WHERE cooperative_approach_id = ? AND authorization_id = ?"
)


def trigger_names() -> list[str]:
    return [f"{TABLE}_{event}" for event in EVENTS]


def trigger_statements() -> list[str]:
    update, delete = trigger_names()
    lowered = triggers.mark_lowered(MARK, "actions")
    return [
        f"CREATE TRIGGER IF NOT EXISTS {update} AFTER UPDATE OF {_COUNTED_COLUMNS} ON actions "
        f"BEGIN {_SUBTRACT} {_ADD} END",
        f"CREATE TRIGGER IF NOT EXISTS {delete} AFTER DELETE ON actions "
        f"BEGIN {_SUBTRACT} {lowered} END",
    ]


def kept(connection: Connection) -> bool:
    """Whether this database keeps the totals at write time (SQLite)."""
    return connection.dialect.name == "sqlite"


# Whether `actions` holds a row past the mark (one seek of its primary key).
_PENDING = (
    "SELECT 1 FROM actions "
    f"WHERE id > coalesce((SELECT last_id FROM {triggers.MARKS} WHERE name = ?), 0) LIMIT 1"
)

# Each first transfer's units summed in two halves and put together in SQL
# (`db.sums.joined_in_sql`): a total past 2**63 becomes a float, as the triggers' `+`
# leaves it, where SQLite's `sum()` raises: exact where it fits, never answered where it
# does not (`units`).
_UNITS_SUM = joined_in_sql("last_id - first_id + 1")


def rebuild(connection: Connection) -> None:
    """The table from `actions` as they are (in the caller's transaction)."""
    connection.exec_driver_sql(f"DELETE FROM {TABLE}")
    triggers.ensure_marks(connection)
    last = triggers.fold_to(connection, MARK, "actions")
    connection.exec_driver_sql(
        f"INSERT INTO {TABLE} ({_KEY}, units) "
        f"SELECT {_KEY}, {_UNITS_SUM} FROM actions "
        f"WHERE action_type = '{COUNTED}' AND authorization_id IS NOT NULL AND id <= ? "
        f"GROUP BY {_KEY}",
        (last,),
    )


def fold(connection: Connection) -> None:
    """Count the first transfers inserted past the mark and move it to the largest id of
    `actions` (in the caller's transaction; SQLite, where the triggers are in place)."""
    after = triggers.folded(connection, MARK)
    connection.exec_driver_sql(
        f"INSERT INTO {TABLE} ({_KEY}, units) "
        # NOT INDEXED: the rows past the mark by row id, never every first transfer of
        # the table through an index on its type (which made a 1M ingest quadratic).
        f"SELECT {_KEY}, {_UNITS_SUM} FROM actions NOT INDEXED "
        f"WHERE id > ? AND action_type = '{COUNTED}' AND authorization_id IS NOT NULL "
        f"GROUP BY {_KEY} "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET units = units + excluded.units",
        (after,),
    )
    triggers.fold_to(connection, MARK, "actions", after)


def ensure(connection: Connection) -> None:
    """On SQLite, the triggers in place, and the table rebuilt if they were not (the
    caller holds the write lock; its transaction commits both or neither); then what
    was inserted past the mark counted."""
    if not kept(connection):
        return
    if triggers.all_present(connection, trigger_names()):
        fold(connection)
        return
    rebuild(connection)  # its first write opens the transaction the triggers join
    for statement in trigger_statements():
        connection.exec_driver_sql(statement)


def units(connection: Connection, ca: str, authorization_id: str) -> int | None:
    """The units first transferred under the key, as the connection's snapshot holds
    them; None where the table is not kept up to date (PostgreSQL, or the triggers are
    missing, or the total passed what an integer holds): the caller sums. Read in the
    caller's transaction, so the triggers' check and the total see the same snapshot."""
    if not kept(connection) or not triggers.all_present(connection, trigger_names()):
        return None
    if connection.exec_driver_sql(_PENDING, (MARK,)).first() is not None:
        return None  # rows inserted past the mark, not counted yet
    found = connection.exec_driver_sql(_UNITS, (ca, authorization_id)).first()
    if found is None:
        return 0
    total, kind = found
    return int(total) if kind == "integer" else None
