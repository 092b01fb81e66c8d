"""Search the current block records (actions, or holdings), a page at a time.

Filters: cooperative approach, originating registry, first transferring Party, vintage
range, serial range (blocks intersecting it), action type, derived state, holder (a
registry id or an account id). Pagination is keyset-based: the opaque cursor holds the
sort key of the last row returned, so pages stay stable while registries keep syncing
(a new record appears on a later page or not at all; no row is repeated or skipped).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Table, or_, select, tuple_

from metareg.db.tables.index import CURRENT_TABLES
from metareg.index.query import canonical
from metareg.index.state import block_state
from metareg.records.canonical import block_text

SCAN_PAGES = 10  # with a state filter, look at most this many pages' worth of rows


class InvalidCursor(ValueError):
    """The cursor is not one a search with the same sort and record type returned."""


@dataclass(frozen=True, slots=True)
class BlockFilters:
    cooperative_approach_id: str | None = None
    party_registry_id: str | None = None  # the originating registry
    first_transferring_party_id: str | None = None
    vintage_from: int | None = None
    vintage_to: int | None = None
    serial_from: int | None = None
    serial_to: int | None = None
    action_type: str | None = None  # actions only
    state: str | None = None  # derived state of the block
    holder: str | None = None  # holding registry id or account id; holdings only


def _sort_columns(table: Table, sort: str, record_type: str) -> list[Any]:
    key = sort.lstrip("-")
    if key == "serial":
        return [
            table.c.cooperative_approach_id,
            table.c.party_registry_id,
            table.c.first_id,
            table.c.id,
        ]
    if key == "vintage":
        return [table.c.vintage, table.c.id]
    date_column = table.c.action_date if record_type == "action" else table.c.as_of
    return [date_column, table.c.id]


def _encode_cursor(sort: str, record_type: str, values: list[Any]) -> str:
    data = orjson.dumps({"s": sort, "t": record_type, "k": values}, default=str)
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, record_type: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        values = data["k"]
        ok = data["s"] == sort and data["t"] == record_type and isinstance(values, list)
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        ok = False
    if not ok:
        raise InvalidCursor(
            "The cursor is not one this endpoint returned for the same sort and record type."
        )
    return list(values)


def _cursor_values(row: Any, columns: list[Any]) -> list[Any]:
    values = []
    for column in columns:
        value = getattr(row, column.name)
        values.append(value.isoformat() if hasattr(value, "isoformat") else value)
    return values


def _typed(columns: list[Any], values: list[Any]) -> list[Any]:
    """Cursor values back to the columns' Python types (dates travel as text)."""
    if len(values) != len(columns):
        raise InvalidCursor("The cursor does not match this sort.")
    typed = []
    for column, value in zip(columns, values, strict=True):
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            python_type = object
        if python_type is date and isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError as error:
                raise InvalidCursor("The cursor is damaged.") from error
        elif (python_type is int and not isinstance(value, int)) or (
            python_type is str and not isinstance(value, str)
        ):
            raise InvalidCursor("The cursor is damaged.")
        typed.append(value)
    return typed


def _conditions(table: Table, filters: BlockFilters) -> list[Any]:
    conditions: list[Any] = []
    for column, value in (
        ("cooperative_approach_id", filters.cooperative_approach_id),
        ("party_registry_id", filters.party_registry_id),
        ("first_transferring_party_id", filters.first_transferring_party_id),
    ):
        if value is not None:
            conditions.append(table.c[column] == value)
    if filters.vintage_from is not None:
        conditions.append(table.c.vintage >= filters.vintage_from)
    if filters.vintage_to is not None:
        conditions.append(table.c.vintage <= filters.vintage_to)
    if filters.serial_from is not None:
        conditions.append(table.c.last_id >= filters.serial_from)
    if filters.serial_to is not None:
        conditions.append(table.c.first_id <= filters.serial_to)
    if filters.action_type is not None:
        conditions.append(table.c.action_type == filters.action_type)
    if filters.holder is not None:
        conditions.append(
            or_(table.c.registry_id == filters.holder, table.c.account_id == filters.holder)
        )
    return conditions


def search_blocks(
    connection: Connection,
    kind: str,
    filters: BlockFilters,
    *,
    sort: str = "serial",
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of the current `kind` ("action" or "holding") records that match:
    {"items": [...], "next_cursor": str | None, "limit": limit}. Raises `InvalidCursor`."""
    table: Table = CURRENT_TABLES[kind]
    conditions = _conditions(table, filters)
    columns = _sort_columns(table, sort, kind)
    descending = sort.startswith("-")
    if cursor:
        after = _typed(columns, _decode_cursor(cursor, sort, kind))
        key = tuple_(*columns)
        conditions.append(key < tuple_(*after) if descending else key > tuple_(*after))
    order = [c.desc() for c in columns] if descending else list(columns)

    items: list[dict[str, Any]] = []
    last_row: Any = None
    finished = False  # every matching row has been looked at
    for _page in range(SCAN_PAGES if filters.state else 1):
        scan = list(conditions)
        if last_row is not None:
            seen = tuple_(*_typed(columns, _cursor_values(last_row, columns)))
            scan.append(tuple_(*columns) < seen if descending else tuple_(*columns) > seen)
        rows = connection.execute(select(table).where(*scan).order_by(*order).limit(limit)).all()
        for position, row in enumerate(rows):
            last_row = row
            item = _item(connection, kind, row)
            if filters.state is None or item["state"] == filters.state:
                items.append(item)
            if len(items) == limit:
                finished = len(rows) < limit and position == len(rows) - 1
                break
        else:
            finished = len(rows) < limit
        if finished or len(items) == limit:
            break
    next_cursor = None
    if last_row is not None and not finished:
        next_cursor = _encode_cursor(sort, kind, _cursor_values(last_row, columns))
    return {"items": items, "next_cursor": next_cursor, "limit": limit}


def _item(connection: Connection, kind: str, row: Any) -> dict[str, Any]:
    record = canonical(kind, row)
    derived = block_state(
        connection, row.cooperative_approach_id, row.party_registry_id, row.first_id, row.last_id
    )
    return {
        "identifier": block_text(record),
        "record_type": kind,
        "registry": row.registry_id,
        "record_id": row.uid,
        "quantity": row.last_id - row.first_id + 1,
        "state": derived["state"],
        "record": record,
    }
