"""One dialect-aware bulk upsert, in bounded batches.

Every bulk write of the index goes through here: SQLite and PostgreSQL both speak
INSERT ... ON CONFLICT (...) DO UPDATE, but SQLAlchemy builds it per dialect.
The statement is compiled once and run with executemany, which both drivers
execute in a tight loop (sqlite3 in C, psycopg 3 pipelined), so per-row ORM
overhead never enters the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Table, case
from sqlalchemy.dialects import postgresql, sqlite

DEFAULT_BATCH = 2_000


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _insert_for(connection: Connection, table: Table) -> Any:
    """The dialect's own INSERT, which knows ON CONFLICT."""
    name = connection.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"no upsert for dialect {name!r}")


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH,
    keep_greatest: Sequence[str] = (),
) -> int:
    """Insert rows, or update the existing row with the same `key` columns.

    `update` names the columns an existing row takes from the new one (default:
    every column of the rows except the key); `keep_greatest` names columns that
    keep the larger of the old and the new value (monotonic maxima). Rows must all
    have the same columns. Returns the number of rows written.
    """
    if not rows:
        return 0
    columns = list(rows[0])
    update_columns = [c for c in (update if update is not None else columns) if c not in key]
    statement = _insert_for(connection, table)
    excluded = statement.excluded
    assignments: dict[str, Any] = {c: excluded[c] for c in update_columns}
    for name in keep_greatest:
        current = table.c[name]
        assignments[name] = case((excluded[name] > current, excluded[name]), else_=current)
    statement = (
        statement.on_conflict_do_update(index_elements=list(key), set_=assignments)
        if assignments
        else statement.on_conflict_do_nothing(index_elements=list(key))
    )
    for chunk in batched(rows, batch_size):
        connection.execute(statement, chunk)
    return len(rows)


def insert_many(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Plain bulk insert (history, quarantine: rows that never conflict)."""
    for chunk in batched(rows, batch_size):
        connection.execute(table.insert(), chunk)
    return len(rows)
