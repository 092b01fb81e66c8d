"""The units first transferred under each authorization, kept at write time (SQLite).

`POST /v1/checks/authorization` reports how much of an authorization is left: the sum
of the first transfers under its key (cooperative approach, authorization id; DC09's
all-time total). Summed when asked, that reads every first transfer of the key (at 1M
blocks of the bench world, up to ~17,700 index entries, 3-4 ms), and any write forgot
every remembered sum (`metareg.detection.read.cached_totals`): a fresh API process, or
one after each sync's commit, spent its first requests summing.

`authorization_first_transferred` holds the sum per key, kept by SQLite triggers on
`actions` in the same transaction as the write, so every snapshot reads it equal to
the SQL sum over that snapshot's `actions`: a first transfer inserted adds its units,
one deleted subtracts them, an update subtracts the old row's and adds the new row's
(whatever changed: its type, its key or its range). A key whose first transfers are
all gone keeps a row of 0 units, as the sum of nothing is.

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
EVENTS = ("insert", "update", "delete")
_KEY = "cooperative_approach_id, authorization_id"
_ADD = (
    f"INSERT INTO {TABLE} ({_KEY}, units) "
    "SELECT NEW.cooperative_approach_id, NEW.authorization_id, NEW.last_id - NEW.first_id + 1 "
    f"WHERE NEW.action_type = '{COUNTED}' AND NEW.authorization_id IS NOT NULL "
    f"ON CONFLICT ({_KEY}) DO UPDATE SET units = units + excluded.units;"
)
_SUBTRACT = (
    f"UPDATE {TABLE} SET units = units - (OLD.last_id - OLD.first_id + 1) "
    "WHERE cooperative_approach_id = OLD.cooperative_approach_id "
    f"AND authorization_id = OLD.authorization_id AND OLD.action_type = '{COUNTED}';"
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
    insert, update, delete = trigger_names()
    return [
        f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON actions BEGIN {_ADD} END",
        f"CREATE TRIGGER IF NOT EXISTS {update} AFTER UPDATE OF {_COUNTED_COLUMNS} ON actions "
        f"BEGIN {_SUBTRACT} {_ADD} END",
        f"CREATE TRIGGER IF NOT EXISTS {delete} AFTER DELETE ON actions BEGIN {_SUBTRACT} END",
    ]


def kept(connection: Connection) -> bool:
    """Whether this database keeps the totals at write time (SQLite)."""
    return connection.dialect.name == "sqlite"


# Each first transfer's units summed in two halves and put together in SQL
# (`db.sums.joined_in_sql`): a total past 2**63 becomes a float, as the triggers' `+`
# leaves it, where SQLite's `sum()` raises: exact where it fits, never answered where it
# does not (`units`).
_UNITS_SUM = joined_in_sql("last_id - first_id + 1")


def rebuild(connection: Connection) -> None:
    """The table from `actions` as they are (in the caller's transaction)."""
    connection.exec_driver_sql(f"DELETE FROM {TABLE}")
    connection.exec_driver_sql(
        f"INSERT INTO {TABLE} ({_KEY}, units) "
        f"SELECT {_KEY}, {_UNITS_SUM} FROM actions "
        f"WHERE action_type = '{COUNTED}' AND authorization_id IS NOT NULL GROUP BY {_KEY}"
    )


def ensure(connection: Connection) -> None:
    """On SQLite, the triggers in place, and the table rebuilt if they were not (the
    caller holds the write lock; its transaction commits both or neither)."""
    if not kept(connection) or triggers.all_present(connection, trigger_names()):
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
    found = connection.exec_driver_sql(_UNITS, (ca, authorization_id)).first()
    if found is None:
        return 0
    total, kind = found
    return int(total) if kind == "integer" else None
