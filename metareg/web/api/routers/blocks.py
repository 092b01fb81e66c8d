"""`GET /v1/blocks`: search the current block records (actions, or holdings).

Filters: cooperative approach, originating registry, first transferring Party, vintage
range, serial range (blocks intersecting it), action type, derived state, holder
(a registry id or an account id; implies holdings). Pagination is keyset-based: the
opaque cursor holds the sort key of the last row returned, so pages stay stable
while registries keep syncing (a new record appears on a later page or not at all;
no row is repeated or skipped).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import Connection, Table, or_, select, tuple_

from metareg.db.tables.index import CURRENT_TABLES
from metareg.index.query import canonical
from metareg.index.state import MIXED, STATES, block_state
from metareg.records.canonical import block_text
from metareg.web.api.auth import authorize
from metareg.web.api.deps import read_connection, settings_of
from metareg.web.auth import Principal
from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["blocks"])

ActionType = Literal[
    "Issuance",
    "Authorization",
    "First transfer",
    "Transfer",
    "Acquisition",
    "Use",
    "Cancellation",
    "Voluntary cancellation",
]
State = Literal[
    "unknown",
    "held",
    "issued",
    "authorized",
    "first-transferred",
    "transferred",
    "used",
    "cancelled",
    "mixed",
]
Sort = Literal["serial", "-serial", "vintage", "-vintage", "date", "-date"]
assert set(STATES) | {MIXED} == set(State.__args__)  # type: ignore[attr-defined]

SCAN_PAGES = 10  # with a state filter, look at most this many pages' worth of rows


class BlockItem(BaseModel):
    identifier: str
    record_type: str
    registry: str
    record_id: str
    quantity: int
    state: str
    record: dict[str, Any]


class BlockPage(BaseModel):
    items: list[BlockItem]
    next_cursor: str | None
    limit: int


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
        raise ApiProblem(
            422,
            "The cursor is not one this endpoint returned for the same sort and record type.",
            kind="invalid-cursor",
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
    from datetime import date

    if len(values) != len(columns):
        raise ApiProblem(422, "The cursor does not match this sort.", kind="invalid-cursor")
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
                raise ApiProblem(422, "The cursor is damaged.", kind="invalid-cursor") from error
        elif (python_type is int and not isinstance(value, int)) or (
            python_type is str and not isinstance(value, str)
        ):
            raise ApiProblem(422, "The cursor is damaged.", kind="invalid-cursor")
        typed.append(value)
    return typed


@router.get("/blocks", response_model=BlockPage)
def search_blocks(
    cooperative_approach_id: str | None = Query(None, pattern=r"^CA[0-9]{4}$"),
    party_registry_id: str | None = Query(
        None, pattern=r"^[A-Z]{3}[0-9]{2}$", description="Originating registry"
    ),
    first_transferring_party_id: str | None = Query(None, pattern=r"^[A-Z]{3}$"),
    vintage_from: int | None = Query(None, ge=2000, le=2100),
    vintage_to: int | None = Query(None, ge=2000, le=2100),
    serial_from: int | None = Query(None, ge=1, le=10**18 - 1),
    serial_to: int | None = Query(None, ge=1, le=10**18 - 1),
    action_type: ActionType | None = Query(None),
    state: State | None = Query(None, description="Derived state of the block"),
    holder: str | None = Query(
        None, min_length=1, max_length=256, description="Holding registry id or account id"
    ),
    record_type: Literal["action", "holding"] | None = Query(
        None, description="Default: holding when `holder` is given, else action"
    ),
    sort: Sort = Query("serial"),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, max_length=2000),
    connection: Connection = Depends(read_connection),
    settings: ApiSettings = Depends(settings_of),
    _caller: Principal = Depends(authorize),
) -> Any:
    kind = record_type or ("holding" if holder else "action")
    if kind == "action" and holder:
        raise ApiProblem(422, "`holder` filters holdings; it cannot go with record_type=action.")
    if kind == "holding" and action_type:
        raise ApiProblem(
            422, "`action_type` filters actions; it cannot go with record_type=holding."
        )
    for low, high, name in (
        (vintage_from, vintage_to, "vintage"),
        (serial_from, serial_to, "serial"),
    ):
        if low is not None and high is not None and low > high:
            raise ApiProblem(422, f"{name}_from must not be greater than {name}_to.")
    limit = min(limit, settings.max_page_size)
    table: Table = CURRENT_TABLES[kind].__table__  # type: ignore[attr-defined]
    conditions: list[Any] = []
    for column, value in (
        ("cooperative_approach_id", cooperative_approach_id),
        ("party_registry_id", party_registry_id),
        ("first_transferring_party_id", first_transferring_party_id),
    ):
        if value is not None:
            conditions.append(table.c[column] == value)
    if vintage_from is not None:
        conditions.append(table.c.vintage >= vintage_from)
    if vintage_to is not None:
        conditions.append(table.c.vintage <= vintage_to)
    if serial_from is not None:
        conditions.append(table.c.last_id >= serial_from)
    if serial_to is not None:
        conditions.append(table.c.first_id <= serial_to)
    if action_type is not None:
        conditions.append(table.c.action_type == action_type)
    if holder is not None:
        conditions.append(or_(table.c.registry_id == holder, table.c.account_id == holder))
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
    for _page in range(SCAN_PAGES if state else 1):
        scan = list(conditions)
        if last_row is not None:
            seen = tuple_(*_typed(columns, _cursor_values(last_row, columns)))
            scan.append(tuple_(*columns) < seen if descending else tuple_(*columns) > seen)
        rows = connection.execute(select(table).where(*scan).order_by(*order).limit(limit)).all()
        for position, row in enumerate(rows):
            last_row = row
            item = _item(connection, kind, row)
            if state is None or item["state"] == state:
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
