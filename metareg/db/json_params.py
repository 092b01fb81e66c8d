"""A JSON array bound as one parameter, read as rows: any number of values in one
small statement (no IN list or padded VALUES list of bound parameters to compile and
fill), unpacked by SQLite's `json_each` or PostgreSQL's `jsonb_array_elements`.
Pass the array as text (`db.upsert.json_text`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Date, String, column, text

_SQL_TYPES = {String: "VARCHAR", BigInteger: "BIGINT", Date: "DATE"}


def json_rows(name: str, columns: Sequence[tuple[str, Any]], postgres: bool) -> Any:
    """Rows given as one JSON array of arrays, the bound parameter `name`, as a CTE of
    these (column name, type) columns: unpacked by SQLite's `json_each` or PostgreSQL's
    `jsonb_array_elements`. One small statement for any number of rows (no padded
    VALUES list of bound parameters to compile and fill)."""
    if postgres:
        fields = [f"{name}_row ->> {n}" for n in range(len(columns))]
        source = f"jsonb_array_elements(CAST(:{name} AS JSONB)) AS {name}_rows({name}_row)"
    else:
        fields = [f"json_extract(value, '$[{n}]')" for n in range(len(columns))]
        source = f"json_each(:{name})"
    # A date stays ISO text on SQLite (what SQLAlchemy stores there; CAST AS DATE
    # would make it a number).
    types = {**_SQL_TYPES, Date: "DATE" if postgres else "TEXT"}
    selected = ", ".join(
        f"CAST({field} AS {types[kind]}) AS {column_name}"
        for field, (column_name, kind) in zip(fields, columns, strict=True)
    )
    rows = (
        text(f"SELECT {selected} FROM {source}")
        .columns(*(column(column_name, kind) for column_name, kind in columns))
        .cte(name)
    )
    # SQLite would otherwise evaluate a row's fields (json_extract) again for every
    # row of the table it is joined to that the index range lets through.
    return rows if postgres else rows.prefix_with("MATERIALIZED")


def json_values(name: str, postgres: bool) -> Any:
    """The strings of the JSON array bound as `name`, as a one-column (`value`) SELECT,
    e.g. for `column.in_(...)`."""
    if postgres:
        sql = f"SELECT jsonb_array_elements_text(CAST(:{name} AS JSONB)) AS value"
    else:
        sql = f"SELECT value FROM json_each(:{name})"
    return text(sql).columns(column("value", String))
