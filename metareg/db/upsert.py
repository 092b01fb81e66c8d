"""One dialect-aware bulk upsert, in bounded batches.

Every bulk write of the index goes through here: SQLite and PostgreSQL both speak
INSERT ... ON CONFLICT (...) DO UPDATE, but SQLAlchemy builds it per dialect.

The statement is compiled once per (dialect, table, columns, conflict clause) and
cached; each batch then goes straight to the driver's `executemany` (sqlite3 loops
in C, psycopg 3 pipelines) with rows as plain tuples. The column types' own bind
processors still convert each value (dates, JSON), so what lands in the database is
exactly what SQLAlchemy would have written, but SQLAlchemy's per-row parameter
assembly, about a third of an ingest's time when profiled, never enters the hot path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice, repeat
from operator import add, itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Table, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.schema import ScalarElementColumnDefault

DEFAULT_BATCH = 2_000


def json_text(value: Any) -> str:
    """A value as the JSON text a JSON column stores, for `write_rows(json_columns=...)`:
    serialized by orjson (several times faster than the stdlib encoder, which the
    column type would use). Its text is compact where the stdlib's has spaces, and
    keeps non-ASCII characters as they are: the same JSON value either way. What orjson
    refuses (an integer beyond 64 bits, a non-string key, a lone surrogate) goes to the
    stdlib encoder, as it would have without this."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


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


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A compiled bulk statement and how to turn a row tuple into its driver parameters."""

    sql: str
    names: tuple[str, ...] | None  # driver parameter names (None: positional)
    # For each driver parameter: the index of the row value it takes (or -1 for a
    # column default the rows do not give), and the type's bind processor (or None).
    slots: tuple[tuple[int, Any, Callable[[Any], Any] | None], ...]

    def params(self, chunk: Sequence[Sequence[Any]]) -> list[Any]:
        """The driver's parameters for a chunk of rows. Values are converted column by
        column with map/zip, which run in C: a per-value Python loop cost as much as
        the database itself."""
        count = len(chunk)
        if self.names is None and count and set(map(type, chunk)) == {tuple}:
            return self._positional(chunk)
        given = list(zip(*chunk, strict=True)) if count else []
        columns: list[Iterable[Any]] = []
        for index, constant, process in self.slots:
            values: Any = given[index] if index >= 0 else repeat(constant, count)
            if process is None:
                columns.append(values)
            elif index < 0 or values.count(None) == count:
                # One value for the whole column (a default, or an optional field no
                # row gives): convert it once.
                columns.append(repeat(process(constant if index < 0 else None), count))
            else:
                columns.append(map(process, values))
        if self.names is None:
            return list(zip(*columns, strict=False))
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=False)]

    def _positional(self, chunk: Sequence[Any]) -> list[Any]:
        """`params` of positional parameters: each row tuple extended by the values
        that are converted (or defaults), then picked in the statement's order, in C.
        Only the converted columns are taken apart: transposing every column of the
        rows and back cost twice as much."""
        count, width = len(chunk), len(chunk[0])
        extra: list[Iterable[Any]] = []
        order: list[int] = []
        for index, constant, process in self.slots:
            if index >= 0 and process is None:
                order.append(index)
                continue
            order.append(width + len(extra))
            if index < 0:
                extra.append(repeat(constant if process is None else process(constant), count))
                continue
            values = list(map(itemgetter(index), chunk))
            if process is None:
                extra.append(values)
            elif len(set(map(id, values))) == 1:  # one object in every row (None, a time)
                extra.append(repeat(process(values[0]), count))
            else:  # the processor itself: remembering the last object rarely pays here
                extra.append(map(getattr(process, "__wrapped__", process), values))
        if not extra and order == list(range(width)):
            return list(chunk)
        pick = itemgetter(*order) if len(order) > 1 else lambda row: (row[order[0]],)
        if not extra:
            return list(map(pick, chunk))
        return list(map(pick, map(add, chunk, zip(*extra, strict=True))))


_IMMUTABLE = frozenset({type(None), str, int, float, bool, date, datetime})


def _remember_last(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """The processor, answering at once when given the very object it was given last:
    a batch repeats None (absent optional fields) and its one `received_at` in every row."""
    if process is None:
        return None
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        result = process(value)
        if type(value) in _IMMUTABLE:  # a list could change between rows: never remembered
            last[0], last[1] = value, result
        return result

    remembered.__wrapped__ = process  # type: ignore[attr-defined]
    return remembered


_WRITE_OPTIONS: Any = {"stream_results": False}

_PREPARED: dict[tuple[Any, ...], _Prepared | None] = {}


def _prepare(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    key: tuple[str, ...] | None,
    update: tuple[str, ...] | None,
    keep_greatest: tuple[str, ...],
    json_columns: tuple[str, ...] = (),
    converted: tuple[str, ...] = (),
) -> _Prepared | None:
    """The cached compiled statement, or None where only SQLAlchemy can run it
    (a column default computed by a Python callable per row). The `json_columns`
    take JSON text as it is (no bind processor: SQLite stores the text, PostgreSQL's
    statement casts it to JSONB); the `converted` ones are given in the driver's form
    already (no bind processor either)."""
    dialect = connection.dialect
    cache_key = (
        type(dialect),
        dialect.paramstyle,
        table,
        columns,
        key,
        update,
        keep_greatest,
        json_columns,
        converted,
    )
    if cache_key in _PREPARED:
        return _PREPARED[cache_key]
    statement: Any = (
        table.insert()
        if key is None
        else _upsert_statement(connection, table, columns, key, update, keep_greatest)
    )
    compiled = statement.compile(dialect=dialect, column_keys=list(columns), for_executemany=True)
    order = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    position = {name: n for n, name in enumerate(columns)}
    slots: list[tuple[int, Any, Callable[[Any], Any] | None]] = []
    prepared: _Prepared | None = None
    for name in order:
        column = table.c[name]
        process = (
            None
            if name in json_columns or name in converted
            else _remember_last(column.type.dialect_impl(dialect).bind_processor(dialect))
        )
        if name in position:
            slots.append((position[name], None, process))
        elif isinstance(column.default, ScalarElementColumnDefault):
            slots.append((-1, column.default.arg, process))
        else:
            break
    else:
        prepared = _Prepared(
            sql=compiled.string,
            names=None if compiled.positional else tuple(order),
            slots=tuple(slots),
        )
    _PREPARED[cache_key] = prepared
    return prepared


def write_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    key: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH,
    keep_greatest: Sequence[str] = (),
    json_columns: Sequence[str] = (),
    converted: Sequence[str] = (),
) -> int:
    """The fast path of `upsert` (with `key`) and `insert_many` (without): rows are
    tuples in the order of `columns`. The JSON columns named in `json_columns`
    are given as JSON text already (`json_text()`), serialized once by the caller;
    the columns named in `converted` are given as the column type's bind processor
    would make them for the connection's driver (a SQLite DATE as its text).
    Returns the number of rows written."""
    if not rows:
        return 0
    names = tuple(columns)
    prepared = _prepare(
        connection,
        table,
        names,
        None if key is None else tuple(key),
        None if update is None else tuple(update),
        tuple(keep_greatest),
        tuple(json_columns),
        tuple(converted),
    )
    if prepared is None:
        if json_columns or converted:
            raise ValueError(f"{table.name}: JSON text needs the fast path (no Python default)")
        as_dicts = [dict(zip(names, row, strict=True)) for row in rows]
        if key is None:
            for chunk in batched(as_dicts, batch_size):
                connection.execute(table.insert(), chunk)
        else:
            _sqlalchemy_upsert(connection, table, as_dicts, key, update, batch_size, keep_greatest)
        return len(rows)
    for chunk in batched(rows, batch_size):
        # A caller may stream its reads (stream_results): a write is never a
        # server-side cursor, which cannot executemany.
        connection.exec_driver_sql(prepared.sql, prepared.params(chunk), _WRITE_OPTIONS)
    return len(rows)


def _upsert_statement(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    key: Sequence[str],
    update: Sequence[str] | None,
    keep_greatest: Sequence[str],
) -> Any:
    """`INSERT ... ON CONFLICT (key) DO UPDATE` the update columns (all but the key by
    default; `keep_greatest` ones only ever grow), or `DO NOTHING` when none remain."""
    statement = _insert_for(connection, table)
    update_columns = [c for c in (update if update is not None else columns) if c not in key]
    excluded = statement.excluded
    assignments: dict[str, Any] = {c: excluded[c] for c in update_columns}
    for name in keep_greatest:
        current = table.c[name]
        assignments[name] = case((excluded[name] > current, excluded[name]), else_=current)
    if assignments:
        return statement.on_conflict_do_update(index_elements=list(key), set_=assignments)
    return statement.on_conflict_do_nothing(index_elements=list(key))


def _sqlalchemy_upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update: Sequence[str] | None,
    batch_size: int,
    keep_greatest: Sequence[str],
) -> None:
    statement = _upsert_statement(connection, table, list(rows[0]), key, update, keep_greatest)
    for chunk in batched(rows, batch_size):
        connection.execute(statement, chunk)


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
    return write_rows(
        connection,
        table,
        columns,
        [tuple(row[c] for c in columns) for row in rows],
        key=key,
        update=update,
        batch_size=batch_size,
        keep_greatest=keep_greatest,
    )


def insert_many(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Plain bulk insert (history, quarantine: rows that never conflict)."""
    if not rows:
        return 0
    columns = list(rows[0])
    return write_rows(
        connection,
        table,
        columns,
        [tuple(row[c] for c in columns) for row in rows],
        batch_size=batch_size,
    )
