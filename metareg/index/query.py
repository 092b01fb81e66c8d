"""Reading the unified index: which current records cover a serial or range, and
what every one of them has been.

Range queries use the (cooperative approach, originating registry, first_id)
B-tree index, bounded below by the longest block ever stored in that pair
(`block_span`): a block that intersects [first, last] must start within
[first - max_span, last], so the scan never walks the whole pair. See
docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Table, bindparam, select

from metareg.db.tables.index import (
    CURRENT_TABLES,
    STATUS_RANGE_COLUMNS,
    UNIT_RANGE_COLUMNS,
    BlockSpan,
    RecordVersion,
)

# Not part of a record: the row's identity and hash, and what the index derives from
# the record for the checks (an issuance's parsed underlying units).
INTERNAL_COLUMNS = (
    frozenset({"id", "registry_id", "uid", "content_hash"})
    | UNIT_RANGE_COLUMNS
    | STATUS_RANGE_COLUMNS
)
BLOCK_TYPES = ("action", "holding")

_spans = BlockSpan
_history = RecordVersion


def _table(record_type: str) -> Table:
    return CURRENT_TABLES[record_type]


def canonical(record_type: str, row: Any) -> dict[str, Any]:
    """A current row as its canonical record (RECORDS.md field names, absent = unset)."""
    record: dict[str, Any] = {"record_type": record_type}
    for key, value in row._mapping.items():
        if key in INTERNAL_COLUMNS or value is None:
            continue
        record[key] = value.isoformat() if isinstance(value, date | datetime) else value
    return record


# Built once, executed with parameters: the API's hottest reads (`GET /v1/itmos/{id}`,
# the authorization check) start here, and constructing a select per request cost more
# than running it.
_SPAN = select(_spans.c.max_span).where(
    _spans.c.cooperative_approach_id == bindparam("ca"),
    _spans.c.party_registry_id == bindparam("registry"),
)


def _intersecting_statement(record_type: str) -> Any:
    table = _table(record_type)
    return (
        select(table)
        .where(
            table.c.cooperative_approach_id == bindparam("ca"),
            table.c.party_registry_id == bindparam("registry"),
            table.c.first_id >= bindparam("low"),
            table.c.first_id <= bindparam("last"),
            table.c.last_id >= bindparam("first"),
        )
        .order_by(table.c.first_id, table.c.registry_id, table.c.uid)
    )


_INTERSECTING = {record_type: _intersecting_statement(record_type) for record_type in BLOCK_TYPES}


def _authorizations_statement() -> Any:
    table = _table("authorization")
    return (
        select(table)
        .where(
            table.c.cooperative_approach_id == bindparam("ca"),
            table.c.authorization_id.in_(bindparam("ids", expanding=True)),
        )
        .order_by(table.c.authorization_id, table.c.version, table.c.registry_id)
    )


_AUTHORIZATIONS = _authorizations_statement()


def max_span(connection: Connection, ca: str, registry: str) -> int | None:
    return connection.execute(_SPAN, {"ca": ca, "registry": registry}).scalar()


def intersecting(
    connection: Connection,
    ca: str,
    registry: str,
    first: int,
    last: int,
    record_types: Iterable[str] = BLOCK_TYPES,
) -> list[dict[str, Any]]:
    """Current actions and holdings whose block intersects [first, last] in (ca, registry).

    Each result is {"registry": reporting registry, "record_type", "record_id": uid,
    "record": canonical record}. Touching ranges (one ends at first - 1) do not intersect.
    """
    span = max_span(connection, ca, registry)
    if span is None:
        return []
    found: list[dict[str, Any]] = []
    params = {"ca": ca, "registry": registry, "low": first - span, "last": last, "first": first}
    for record_type in record_types:
        statement = _INTERSECTING.get(record_type)
        if statement is None:  # not a block type: built on demand, as before
            statement = _intersecting_statement(record_type)
        rows = connection.execute(statement, params)
        for row in rows:
            found.append(
                {
                    "registry": row.registry_id,
                    "record_type": record_type,
                    "record_id": row.uid,
                    "record": canonical(record_type, row),
                }
            )
    return found


def covering(connection: Connection, ca: str, registry: str, serial: int) -> list[dict[str, Any]]:
    return intersecting(connection, ca, registry, serial, serial)


def authorizations(connection: Connection, ca: str, ids: Iterable[str]) -> list[dict[str, Any]]:
    """Current authorizations of a cooperative approach with these ids, every version."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = connection.execute(_AUTHORIZATIONS, {"ca": ca, "ids": wanted})
    return [
        {
            "registry": row.registry_id,
            "record_type": "authorization",
            "record_id": row.uid,
            "record": canonical("authorization", row),
        }
        for row in rows
    ]


def history(
    connection: Connection, registry_id: str, record_type: str, uid: str
) -> list[dict[str, Any]]:
    """Every version of one record, oldest first, with its provenance."""
    rows = connection.execute(
        select(_history)
        .where(
            _history.c.registry_id == registry_id,
            _history.c.record_type == record_type,
            _history.c.uid == uid,
        )
        .order_by(_history.c.id)
    )
    return [version_dict(row) for row in rows]


def version_dict(row: Any) -> dict[str, Any]:
    """One `record_version` row as a version of a record's history (with provenance)."""
    return {
        "sequence": row.id,
        "change": row.change,
        "content_hash": row.content_hash,
        "record": orjson.loads(row.payload) if row.payload else None,
        "raw": row.raw,
        "source": row.source,
        "received_at": row.received_at.isoformat() if row.received_at else None,
    }
