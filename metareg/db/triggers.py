"""SQLite triggers that keep a derived copy in step with `actions` and `holdings`
(`metareg.index.columns`, `metareg.index.first_transferred`). A migration that
rebuilds a table in SQLite's batch mode drops its triggers; each copy asks whether its
own are all in place before it trusts what they kept."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection


def all_present(connection: Connection, names: Sequence[str]) -> bool:
    """Whether every trigger named is in the (SQLite) schema."""
    found = connection.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
        f"AND name IN ({', '.join('?' * len(names))})",
        tuple(names),
    ).scalar()
    return found == len(set(names))


# -- how far a copy has folded its table's new rows ------------------------------------
#
# Inserts carry no trigger (one on `actions` cost every inserted row about a third of
# its insert, whether or not it fired): a copy takes the rows inserted since it last
# folded from the table itself, by row id. It keeps the largest row id it has folded
# (`folded`) and, when it folds, takes every row past it and moves it to the table's
# largest id. SQLite gives a row inserted without an id the largest id plus one, so
# each insert lands past the mark unless rows at the top were deleted since (a deleted
# row's id is then given again): the columnar copy's delete notes make it read such an
# id again, and the totals' delete trigger lowers their mark (`mark_lowered`).

MARKS = "index_folded"
_MARKS_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {MARKS} "
    "(name VARCHAR(64) NOT NULL PRIMARY KEY, last_id BIGINT NOT NULL)"
)


def ensure_marks(connection: Connection) -> None:
    """The marks' table (the migration makes it; a copy rebuilt by an earlier
    migration's code, before that one ran, makes it here)."""
    connection.exec_driver_sql(_MARKS_TABLE)


def folded(connection: Connection, name: str) -> int:
    """The largest row id the copy `name` has folded (0: none)."""
    found = connection.exec_driver_sql(
        f"SELECT last_id FROM {MARKS} WHERE name = ?", (name,)
    ).first()
    return 0 if found is None else int(found[0])


def fold_to(connection: Connection, name: str, table: str, folded: int | None = None) -> int:
    """Mark the copy `name` folded up to the largest row id `table` holds now (written
    only where that differs from `folded`, the mark as the caller read it)."""
    top = int(connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one())
    if top == folded:
        return top
    connection.exec_driver_sql(
        f"INSERT INTO {MARKS} (name, last_id) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id",
        (name, top),
    )
    return top


def mark_lowered(name: str, table: str) -> str:
    """A trigger statement (after a delete from `table`) that lowers the mark of the copy
    `name` to the table's largest remaining id when rows at the top are gone, so the id
    SQLite gives the next insert lands past the mark."""
    top = f"(SELECT coalesce(max(id), 0) FROM {table})"
    return f"UPDATE {MARKS} SET last_id = {top} WHERE name = '{name}' AND last_id > {top};"
