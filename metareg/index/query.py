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
from sqlalchemy import Connection, Table, and_, bindparam, literal, select

from metareg.db.driver import DriverSelect
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


class CurrentRows:
    """A select of a current table's whole rows run on the driver (`DriverSelect`), and
    each row as `canonical` writes it: the hottest reads' form of the two."""

    def __init__(self, record_type: str, statement: Any) -> None:
        self.record_type = record_type
        self.select = DriverSelect(statement)
        # The table's own columns come first (a select may add others after them).
        columns = self.select.columns[: len(_table(record_type).columns)]
        self.registry, self.uid = columns.index("registry_id"), columns.index("uid")
        self._fields = tuple(
            (index, name) for index, name in enumerate(columns) if name not in INTERNAL_COLUMNS
        )

    def canonical(self, row: tuple[Any, ...]) -> dict[str, Any]:
        record: dict[str, Any] = {"record_type": self.record_type}
        for index, name in self._fields:
            value = row[index]
            if value is None:
                continue
            record[name] = value.isoformat() if isinstance(value, date | datetime) else value
        return record

    def found(self, connection: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Each row as {"registry", "record_type", "record_id", "record"}."""
        registry, uid, record_type = self.registry, self.uid, self.record_type
        return [
            {
                "registry": row[registry],
                "record_type": record_type,
                "record_id": row[uid],
                "record": self.canonical(row),
            }
            for row in self.select.rows(connection, params)
        ]


# Built once, executed with parameters: the API's hottest reads (`GET /v1/itmos/{id}`,
# the authorization check) start here, and constructing a select per request cost more
# than running it.
_SPAN = select(_spans.c.max_span).where(
    _spans.c.cooperative_approach_id == bindparam("ca"),
    _spans.c.party_registry_id == bindparam("registry"),
)


def lowest_first(first: Any) -> Any:
    """The lowest `first_id` a block of the pair (the parameters `ca`, `registry`) meeting
    [first, ...] can have: `first` less the pair's longest block (`block_span`), read in
    the statement that uses it (NULL where the pair never held a block: nothing then
    matches). Whatever lies within a block the pair held starts there or later too: an
    alert's range (`detection.rules.terms.make_finding`)."""
    return first - _SPAN.scalar_subquery()


def _intersecting_statement(record_type: str, low: Any = None) -> Any:
    """The current rows of `record_type` meeting [first, last], starting at or after
    `low` (default: the parameter `low`, first - the pair's longest block)."""
    table = _table(record_type)
    return (
        select(table)
        .where(
            table.c.cooperative_approach_id == bindparam("ca"),
            table.c.party_registry_id == bindparam("registry"),
            table.c.first_id >= (bindparam("low") if low is None else low),
            table.c.first_id <= bindparam("last"),
            table.c.last_id >= bindparam("first"),
        )
        .order_by(table.c.first_id, table.c.registry_id, table.c.uid)
    )


_INTERSECTING = {
    record_type: CurrentRows(record_type, _intersecting_statement(record_type))
    for record_type in BLOCK_TYPES
}
_SPAN_ROW = DriverSelect(_SPAN)


def _with_history_statement(record_type: str) -> Any:
    """`_intersecting_statement` with each row's versions (`VERSION_COLUMNS`, oldest
    first; one row per version, the record's columns repeated), bounded by the pair's
    longest block read in the same statement: no rows when the pair has none."""
    table = _table(record_type)
    meeting = _intersecting_statement(record_type, low=lowest_first(bindparam("first")))
    versions = _history.c
    return (
        meeting.add_columns(*VERSION_COLUMNS)
        .outerjoin(
            _history,
            and_(
                versions.registry_id == table.c.registry_id,
                versions.record_type == literal(record_type),
                versions.uid == table.c.uid,
            ),
        )
        .order_by(versions.id)
    )


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
    row = _SPAN_ROW.first(connection, {"ca": ca, "registry": registry})
    return None if row is None else row[0]


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
        rows = _INTERSECTING.get(record_type)
        if rows is None:  # not a block type: built on demand, as before
            rows = CurrentRows(record_type, _intersecting_statement(record_type))
        found += rows.found(connection, params)
    return found


_WITH_HISTORY: dict[str, CurrentRows] = {}


def intersecting_with_history(
    connection: Connection, ca: str, registry: str, first: int, last: int
) -> list[dict[str, Any]]:
    """`intersecting`, each result with its "history" (`history`'s entries): one
    statement per record type, the API's `GET /v1/itmos/{id}`'s read."""
    if not _WITH_HISTORY:
        _WITH_HISTORY.update((t, CurrentRows(t, _with_history_statement(t))) for t in BLOCK_TYPES)
    params = {"ca": ca, "registry": registry, "last": last, "first": first}
    found: list[dict[str, Any]] = []
    for rows in _WITH_HISTORY.values():
        width = len(rows.select.columns) - len(VERSION_COLUMNS)
        registry_at, uid_at, record_type = rows.registry, rows.uid, rows.record_type
        item: dict[str, Any] | None = None
        for row in rows.select.rows(connection, params):
            if (
                item is None
                or item["registry"] != row[registry_at]
                or item["record_id"] != row[uid_at]
            ):
                item = {
                    "registry": row[registry_at],
                    "record_type": record_type,
                    "record_id": row[uid_at],
                    "record": rows.canonical(row),
                    "history": [],
                }
                found.append(item)
            if row[width] is not None:
                item["history"].append(version_of(row[width:]))
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
    return version_of(
        (row.id, row.change, row.content_hash, row.payload, row.raw, row.source, row.received_at)
    )


# A version's columns in the order `version_of` takes them (then the record's identity).
VERSION_COLUMNS = (
    _history.c.id,
    _history.c.change,
    _history.c.content_hash,
    _history.c.payload,
    _history.c.raw,
    _history.c.source,
    _history.c.received_at,
    _history.c.registry_id,
    _history.c.record_type,
    _history.c.uid,
)


def version_of(row: tuple[Any, ...]) -> dict[str, Any]:
    """`version_dict` of a row of `VERSION_COLUMNS`."""
    sequence, change, content_hash, payload, raw, source, received_at = row[:7]
    return {
        "sequence": sequence,
        "change": change,
        "content_hash": content_hash,
        "record": orjson.loads(payload) if payload else None,
        "raw": raw,
        "source": source,
        "received_at": received_at.isoformat() if received_at else None,
    }
