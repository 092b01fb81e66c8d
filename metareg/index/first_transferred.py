"""The units first transferred under each authorization, kept at write time (SQLite's
table, PostgreSQL's parts).

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
the table from `actions`, both in one transaction.

PostgreSQL keeps the same sums in `PARTS` (migration 0029), one row per key and server
process that wrote it (`pg_backend_pid()`): a row trigger on `actions` adds a counted
row's units when it is inserted, takes them out when it is deleted, and both when an
update changes what it counts (its `WHEN` skips every other row without calling the
function). Several writers never wait on each other's row of a key, as they would on
one row per key (writers of different registries run at once there); the total is the
sum of the key's rows, in the reader's snapshot. `ensure` folds every row nobody holds
into the key's row of process 0 (no server process has that id) and, where the
triggers are missing, creates them and rebuilds the table. A TRUNCATE of `actions`
empties it. At 10M blocks the full check summed every first transfer of each key from
`ix_action_authorization_chain`: about 30 s of its 95 s read from the disk on the first
check after a load, 7 s from the cache on the next (stop 39's profile); with the parts
the 10M first check took 10.7 times the 1M one in the same run, against 15.7 before
(docs/benchmarks.md, stop 40).
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
    """Whether this database keeps the totals at write time in `TABLE` (SQLite;
    PostgreSQL keeps them in `PARTS`)."""
    return connection.dialect.name == "sqlite"


def _postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


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
    was inserted past the mark counted. On PostgreSQL, `_ensure_parts`."""
    if _postgres(connection):
        _ensure_parts(connection)
        return
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
    them; None where it is not kept up to date (the triggers are missing, or on SQLite
    rows wait past the mark or the total passed what an integer holds): the caller
    sums. Read in the caller's transaction, so the triggers' check and the total see
    the same snapshot."""
    if _postgres(connection):
        if not _parts_triggers_present(connection):
            return None
        found = connection.exec_driver_sql(_PARTS_UNITS, (ca, authorization_id)).scalar()
        return int(found or 0)
    if not kept(connection) or not triggers.all_present(connection, trigger_names()):
        return None
    if connection.exec_driver_sql(_PENDING, (MARK,)).first() is not None:
        return None  # rows inserted past the mark, not counted yet
    found = connection.exec_driver_sql(_UNITS, (ca, authorization_id)).first()
    if found is None:
        return 0
    total, kind = found
    return int(total) if kind == "integer" else None


# -- PostgreSQL: the sums in parts, one per key and server process ------------------------

PARTS = "authorization_first_transferred_parts"
FUNCTION = "authorization_first_transferred_noted"
PARTS_TRIGGERS = tuple(f"{PARTS}_{event}" for event in ("insert", "update", "delete", "truncate"))
_COUNTS = f"{{row}}.action_type = '{COUNTED}' AND {{row}}.authorization_id IS NOT NULL"
# A row's units noted as a row of this process (appended: updating one row per key
# again and again in a transaction walks its ever longer chain of versions).
_NOTE = (
    f"INSERT INTO {PARTS} ({_KEY}, process, units) "
    "VALUES ({row}.cooperative_approach_id, {row}.authorization_id, pg_backend_pid(), "
    "{sign}({row}.last_id::numeric - {row}.first_id + 1));"
)
_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM {PARTS};
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' AND {_COUNTS.format(row="OLD")} THEN
    {_NOTE.format(row="OLD", sign="-")}
  END IF;
  IF TG_OP <> 'DELETE' AND {_COUNTS.format(row="NEW")} THEN
    {_NOTE.format(row="NEW", sign="")}
  END IF;
  RETURN NULL;
END $$"""
# Fired only by a row that counts, or by an update that changes what it counts: the
# `WHEN` is judged without calling the function.
_FIELDS = (
    "({row}.action_type, {row}.cooperative_approach_id, {row}.authorization_id, "
    "{row}.first_id, {row}.last_id)"
)
_WHEN = {
    "insert": _COUNTS.format(row="NEW"),
    "delete": _COUNTS.format(row="OLD"),
    "update": f"{_FIELDS.format(row='OLD')} IS DISTINCT FROM {_FIELDS.format(row='NEW')} "
    f"AND (({_COUNTS.format(row='OLD')}) OR ({_COUNTS.format(row='NEW')}))",
}
_TRIGGERS_SQL = [
    f"CREATE TRIGGER {PARTS}_{event} AFTER {event.upper()} ON actions "
    f"FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {FUNCTION}()"
    for event, when in _WHEN.items()
] + [
    f"CREATE TRIGGER {PARTS}_truncate AFTER TRUNCATE ON actions "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
]
_PARTS_UNITS = (
    f"SELECT sum(units) FROM {PARTS} WHERE cooperative_approach_id = %s AND authorization_id = %s"
)
_PARTS_PRESENT = (
    "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'actions'::regclass "
    f"AND tgenabled <> 'D' AND tgname IN ({', '.join(['%s'] * len(PARTS_TRIGGERS))})"
)
# Every row nobody holds (a writer's open transaction holds those it gathers) into one
# row per key of process 0 (no server process has that id).
_FOLD_PARTS = f"""
WITH folded AS (
  DELETE FROM {PARTS} WHERE ctid IN (SELECT ctid FROM {PARTS} FOR UPDATE SKIP LOCKED)
  RETURNING {_KEY}, units)
INSERT INTO {PARTS} ({_KEY}, process, units)
SELECT {_KEY}, 0, sum(units) FROM folded GROUP BY {_KEY}"""
# This process's rows into one per key (a writer, at the end of each batch).
_GATHER_OWN = f"""
WITH gathered AS (
  DELETE FROM {PARTS} WHERE process = pg_backend_pid() RETURNING {_KEY}, units)
INSERT INTO {PARTS} ({_KEY}, process, units)
SELECT {_KEY}, pg_backend_pid(), sum(units) FROM gathered GROUP BY {_KEY}"""
_REBUILD_PARTS = (
    f"INSERT INTO {PARTS} ({_KEY}, process, units) "
    f"SELECT {_KEY}, 0, sum(last_id::numeric - first_id + 1) FROM actions "
    f"WHERE action_type = '{COUNTED}' AND authorization_id IS NOT NULL GROUP BY {_KEY}"
)


def gather_own(connection: Connection) -> None:
    """PostgreSQL: the rows this process's triggers noted, one per key (the index
    writer's batch ends with it, in its transaction, so a load leaves a few rows per key
    where its triggers noted one per first transfer)."""
    if _postgres(connection):
        connection.exec_driver_sql(_GATHER_OWN)


def _parts_triggers_present(connection: Connection) -> bool:
    found = connection.exec_driver_sql(_PARTS_PRESENT, PARTS_TRIGGERS).scalar()
    return found == len(PARTS_TRIGGERS)


def _ensure_parts(connection: Connection) -> None:
    """PostgreSQL: the parts folded; where the triggers are missing, the function and
    the triggers created and the parts rebuilt from `actions`. Each in a short
    transaction of its own, committed before the caller reads: a writer that meets a
    part being folded, or `actions` being counted, waits for that, not for a check."""
    with connection.engine.begin() as own:
        if _parts_triggers_present(own):
            own.exec_driver_sql(_FOLD_PARTS)
        else:
            rebuild_parts(own)


def rebuild_parts(connection: Connection) -> None:
    """PostgreSQL: the function and the triggers created again and the parts rebuilt
    from `actions`, in the caller's transaction (`actions` locked against writers)."""
    connection.exec_driver_sql("LOCK TABLE actions IN SHARE ROW EXCLUSIVE MODE")
    for name in PARTS_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON actions")
    connection.exec_driver_sql(_FUNCTION_SQL)
    for statement in _TRIGGERS_SQL:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(f"DELETE FROM {PARTS}")
    connection.exec_driver_sql(_REBUILD_PARTS)
