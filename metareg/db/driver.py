"""Selects compiled once and run on the driver's own connection, for the hottest reads.

SQLAlchemy's execution of a cached statement costs tens of microseconds of Python per
statement (the execution context, the cursor result, a `Row` per row) before SQLite
does any work; the API's `GET /v1/itmos/{id}` runs half a dozen small statements, so on
SQLite that overhead was most of its time. A `DriverSelect` compiles its select once
per dialect and, on SQLite, hands the SQL text to the `sqlite3` connection itself (which
keeps the prepared statement in its own cache, keyed by the text), then applies the
same result processors SQLAlchemy would (dates, JSON), so each row holds exactly the
values `connection.execute` would give, as a plain tuple. Elsewhere (PostgreSQL) it runs
through SQLAlchemy as before; the rows are the same tuples.

Only selects with named bound parameters (no expanding IN) and no bind processing
(the parameters are passed to the driver as they are: strings and integers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any]


class _Compiled:
    __slots__ = ("constants", "order", "processors", "sql")

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None:
            raise ValueError("a DriverSelect needs a dialect with positional parameters")
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a DriverSelect takes no expanding parameters")
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup)
        # Parameters the statement binds itself (a `literal`), by position.
        self.constants = tuple(
            (position, compiled.binds[name].effective_value)
            for position, name in enumerate(self.order)
            if not compiled.binds[name].required
        )
        processors = []
        for index, column in enumerate(statement.selected_columns):
            processor = column.type._cached_result_processor(dialect, None)
            if processor is not None:
                processors.append((index, processor))
        self.processors: tuple[tuple[int, Processor], ...] = tuple(processors)


class DriverSelect:
    """`statement`, run on the SQLite driver connection as its rows (tuples, in the
    order of the select's columns); `columns` names them."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.columns: tuple[str, ...] = tuple(str(c.key) for c in statement.selected_columns)
        self._compiled: dict[str, _Compiled] = {}

    def index(self, name: str) -> int:
        """The position of column `name` in each row."""
        return self.columns.index(name)

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        dialect = connection.dialect
        if dialect.name != "sqlite":
            return [tuple(row) for row in connection.execute(self.statement, dict(params))]
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        driver = connection.connection.driver_connection
        assert driver is not None
        if compiled.constants:
            values = [params.get(name) for name in compiled.order]
            for position, value in compiled.constants:
                values[position] = value
        else:
            values = [params[name] for name in compiled.order]
        rows = driver.execute(compiled.sql, values).fetchall()
        if compiled.processors and rows:
            processed = []
            for row in rows:
                fields = list(row)
                for index, processor in compiled.processors:
                    if fields[index] is not None:  # SQLAlchemy's processors keep None
                        fields[index] = processor(fields[index])
                processed.append(tuple(fields))
            return processed
        return rows

    def first(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(connection, params)
        return found[0] if found else None
