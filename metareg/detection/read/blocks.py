"""Reading the blocks for the checks: only the columns the rules need, streamed.

Blocks are read per (cooperative approach, originating registry), in `first_id`
order, through the (ca, registry, first_id, last_id) index of each table; actions and
holdings are merged in Python. Grouping never relies on how the database collates
text, so SQLite and PostgreSQL give the same result.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    Table,
    and_,
    bindparam,
    func,
    select,
    true,
)

from metareg.db.driver import DriverSelect
from metareg.db.json_params import json_rows
from metareg.db.upsert import batched, json_text
from metareg.detection.read.columns import (
    action_columns,
    actions,
    holding_columns,
    holdings,
    spans,
    stream,
)
from metareg.detection.rules.dc03_underlying_unit_reuse import ISSUANCES
from metareg.detection.rules.terms import BlockRecord


def distinct_values(connection: Connection, column: Any) -> list[Any]:
    """The distinct non-null values of an indexed column, one index seek each (a skip
    scan: far cheaper than DISTINCT over millions of rows when the values are few)."""
    following = select(column).where(column > bindparam("after")).order_by(column).limit(1)
    found: list[Any] = []
    value = connection.execute(
        select(column).where(column.is_not(None)).order_by(column).limit(1)
    ).scalar()
    while value is not None:
        found.append(value)
        value = connection.execute(following, {"after": value}).scalar()
    return found


def pairs(connection: Connection) -> list[tuple[str, str]]:
    """Every (cooperative approach, originating registry) that has ever held a block."""
    rows = connection.execute(select(spans.c.cooperative_approach_id, spans.c.party_registry_id))
    return sorted((ca, reg) for ca, reg in rows)


def _in_pair(table: Table) -> list[Any]:
    return [
        table.c.cooperative_approach_id == bindparam("ca"),
        table.c.party_registry_id == bindparam("registry"),
    ]


def _in_range(table: Table) -> list[Any]:
    """Blocks intersecting [first, last]: they start within [first - max span, last]
    (an index range on (ca, registry, first_id, last_id), whose entries say where
    each ends) and end at or after `first`."""
    return [
        *_in_pair(table),
        table.c.first_id >= bindparam("low"),
        table.c.first_id <= bindparam("last"),
        table.c.last_id >= bindparam("first"),
    ]


# Built once: executing a prepared statement skips SQLAlchemy's per-query construction,
# which dominates the incremental check (thousands of small range queries).
_PAIR_ACTIONS = select(*action_columns()).where(*_in_pair(actions)).order_by(actions.c.first_id)
_PAIR_HOLDINGS = select(*holding_columns()).where(*_in_pair(holdings)).order_by(holdings.c.first_id)
_RANGE_ACTIONS = select(*action_columns()).where(*_in_range(actions))
_RANGE_HOLDINGS = select(*holding_columns()).where(*_in_range(holdings))
ID_CHUNK = 500  # row ids per lookup
_NO_ID = 0  # pads a chunk of ids: row ids start at 1


def _by_ids(table: Table, columns: list[Any]) -> Any:
    """Rows of `table` with the ids :i0 .. :i<ID_CHUNK - 1> (one statement shape for
    every chunk, so it is compiled once)."""
    return select(*columns).where(table.c.id.in_([bindparam(f"i{n}") for n in range(ID_CHUNK)]))


_ACTIONS_BY_ID = _by_ids(actions, action_columns())
_HOLDINGS_BY_ID = _by_ids(holdings, holding_columns())
_ISSUANCES_BY_ID = _by_ids(actions, action_columns(with_units=True))
_SPAN = select(spans.c.max_span).where(
    spans.c.cooperative_approach_id == bindparam("ca"),
    spans.c.party_registry_id == bindparam("registry"),
)


# The authorization check's reads (`metareg.detection.passes.proposed`), once per
# request: run on the driver (`DriverSelect`).
_SPAN_ROW = DriverSelect(_SPAN)
_RANGE_ACTION_ROWS = DriverSelect(_RANGE_ACTIONS)
_RANGE_HOLDING_ROWS = DriverSelect(_RANGE_HOLDINGS)


def max_span(connection: Connection, ca: str, registry: str) -> int | None:
    row = _SPAN_ROW.first(connection, {"ca": ca, "registry": registry})
    return None if row is None else row[0]


def blocks(connection: Connection, ca: str, registry: str) -> Iterator[BlockRecord]:
    """Every current action and holding of (ca, registry), in `first_id` order: two
    index-ordered streams merged."""
    params = {"ca": ca, "registry": registry}
    return heapq.merge(
        stream(connection, _PAIR_ACTIONS, params),
        stream(connection, _PAIR_HOLDINGS, params),
        key=lambda r: r.first_id,
    )


def blocks_by_id(
    connection: Connection, action_ids: Iterable[int], holding_ids: Iterable[int]
) -> list[BlockRecord]:
    """The current actions and holdings with these row ids (the screen's suspects)."""
    return [
        *_by_id_chunks(connection, "actions by id", _ACTIONS_BY_ID, action_ids),
        *_by_id_chunks(connection, "holdings by id", _HOLDINGS_BY_ID, holding_ids),
    ]


def issuances_by_id(connection: Connection, ids: Iterable[int]) -> list[BlockRecord]:
    """The actions with these row ids, with their underlying units (DC03's candidates)."""
    return _by_id_chunks(connection, "issuances by id", _ISSUANCES_BY_ID, ids)


def _by_id_chunks(
    connection: Connection, name: str, statement: Any, ids: Iterable[int]
) -> list[BlockRecord]:
    """The rows with these ids, a padded chunk per query, read through the driver's
    own cursor (rows become `BlockRecord`s directly)."""
    make = BlockRecord._make
    found: list[BlockRecord] = []
    for chunk in batched(sorted(set(ids)), ID_CHUNK):
        padded = list(chunk) + [_NO_ID] * (ID_CHUNK - len(chunk))
        params = {f"i{n}": value for n, value in enumerate(padded)}
        found += [make(row) for row in execute_chunk(connection, name, statement, params)]
    return found


def blocks_meeting(
    connection: Connection, ca: str, registry: str, first: int, last: int, span: int | None
) -> list[BlockRecord]:
    """Current actions and holdings of (ca, registry) intersecting [first, last]
    (touching blocks do not), given the pair's max span; unordered."""
    if span is None:
        return []
    params = {"ca": ca, "registry": registry, "low": first - span, "last": last, "first": first}
    make = BlockRecord._make
    found = [make(row) for row in _RANGE_ACTION_ROWS.rows(connection, params)]
    found += [make(row) for row in _RANGE_HOLDING_ROWS.rows(connection, params)]
    return found


INTERVAL_CHUNK = 2_000  # intervals per batched range query


def _lateral(connection: Connection) -> bool:
    return connection.dialect.name != "sqlite"  # SQLite has no LATERAL


_COMPILED: dict[tuple[str, str], Any] = {}


def execute_chunk(connection: Connection, name: str, statement: Any, params: dict[str, Any]) -> Any:
    """Run a chunk statement compiled once per dialect, through the driver (no
    SQLAlchemy statement cache look-up per chunk). On SQLite its rows come straight
    from the driver's cursor, in the connection's transaction: plain tuples, not
    SQLAlchemy rows built one by one (the columns need no result processing)."""
    key = (connection.dialect.name, name)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = statement.compile(dialect=connection.dialect)
    bound = compiled.construct_params(params)
    if not compiled.positional:
        return connection.exec_driver_sql(compiled.string, bound)
    values = tuple(bound[name] for name in compiled.positiontup)
    if connection.dialect.name == "sqlite":
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            return cursor.execute(compiled.string, values).fetchall()
        finally:
            cursor.close()
    return connection.exec_driver_sql(compiled.string, values)


# The same reads over many (ca, registry) pairs at once (the incremental check): each
# row of the chunk names its pair and its interval, and its lower bound on `first_id`
# (the interval's start less the pair's max span), so every pair's intervals share one
# statement instead of five statements per pair.
PairInterval = tuple[str, str, int, int]  # (ca, registry, first, last)


def _pair_touched(lateral: bool) -> Any:
    """A chunk of (ca, registry, low, first, last) rows (`_pair_chunks`) as a CTE."""
    return json_rows(
        "pair_touched",
        [
            ("ca", String),
            ("rg", String),
            ("low", BigInteger),
            ("lo", BigInteger),
            ("hi", BigInteger),
        ],
        lateral,
    )


def _meeting_pair_interval(table: Table, touched: Any) -> Any:
    return and_(
        table.c.cooperative_approach_id == touched.c.ca,
        table.c.party_registry_id == touched.c.rg,
        table.c.first_id >= touched.c.low,
        table.c.first_id <= touched.c.hi,
        table.c.last_id >= touched.c.lo,
    )


def _pair_hull_statement(table: Table, lateral: bool) -> Any:
    touched = _pair_touched(lateral)
    keys = (touched.c.ca, touched.c.rg, touched.c.lo, touched.c.hi)
    if lateral:
        reach = (
            select(func.min(table.c.first_id).label("low"), func.max(table.c.last_id).label("high"))
            .where(_meeting_pair_interval(table, touched))
            .lateral("reach")
        )
        return select(*keys, reach.c.low, reach.c.high).select_from(touched.join(reach, true()))
    return (
        select(*keys, func.min(table.c.first_id), func.max(table.c.last_id))
        .select_from(touched.join(table, _meeting_pair_interval(table, touched)))
        .group_by(*keys)
    )


def pair_meeting_statement(table: Table, columns: list[Any], lateral: bool) -> Any:
    """The rows of `table` (with the block columns `cooperative_approach_id`,
    `party_registry_id`, `first_id`, `last_id`) meeting a chunk of pairs' intervals
    (`rows_meeting_pairs`); lateral for PostgreSQL."""
    touched = _pair_touched(lateral)
    if lateral:
        inner = select(*columns).where(_meeting_pair_interval(table, touched)).offset(0)
        found = inner.lateral("found")
        return select(found).select_from(touched.join(found, true()))
    return select(*columns).select_from(touched.join(table, _meeting_pair_interval(table, touched)))


_PAIR_HULL_SQL = {
    (table.name, lateral): _pair_hull_statement(table, lateral)
    for table in (actions, holdings)
    for lateral in (False, True)
}
_PAIR_MEETING_SQL = {
    (table.name, lateral): pair_meeting_statement(table, columns, lateral)
    for table, columns in ((actions, action_columns()), (holdings, holding_columns()))
    for lateral in (False, True)
}
_SPANS = select(spans.c.cooperative_approach_id, spans.c.party_registry_id, spans.c.max_span)


def max_spans(connection: Connection) -> dict[tuple[str, str], int]:
    """Every pair's max span (one row per pair that has ever held a block)."""
    return {(ca, registry): span for ca, registry, span in connection.execute(_SPANS)}


def _pair_chunks(
    wanted: list[PairInterval], found_spans: dict[tuple[str, str], int]
) -> Iterator[dict[str, Any]]:
    """The parameters of each chunk of the intervals of pairs that hold blocks."""
    rows = [
        (ca, registry, first - found_spans[(ca, registry)], first, last)
        for ca, registry, first, last in wanted
        if (ca, registry) in found_spans
    ]
    for chunk in batched(rows, INTERVAL_CHUNK):
        yield {"pair_touched": json_text(chunk)}


def hulls_of_pairs(
    connection: Connection, wanted: list[PairInterval], found_spans: dict[tuple[str, str], int]
) -> dict[PairInterval, tuple[int, int]]:
    """`hulls` of the intervals of many pairs: each interval extended over the blocks
    meeting it (a pair without blocks keeps its intervals)."""
    reach = {interval: (interval[2], interval[3]) for interval in wanted}
    for params in _pair_chunks(wanted, found_spans):
        for table in (actions, holdings):
            statement = _PAIR_HULL_SQL[(table.name, _lateral(connection))]
            name = f"pair hull {table.name}"
            for ca, registry, lo, hi, low, high in execute_chunk(
                connection, name, statement, params
            ):
                key = (ca, registry, lo, hi)
                if key in reach and low is not None:
                    first, last = reach[key]
                    reach[key] = (min(first, low), max(last, high))
    return reach


def rows_meeting_pairs(
    connection: Connection,
    name: str,
    statements: dict[bool, Any],
    wanted: list[PairInterval],
    found_spans: dict[tuple[str, str], int],
) -> Iterator[Any]:
    """The rows of `statements` (a `pair_meeting_statement` without and with LATERAL)
    meeting the intervals of the pairs in `found_spans`, a chunk of intervals per
    query; a row meeting several intervals comes once per interval."""
    statement = statements[_lateral(connection)]
    for params in _pair_chunks(wanted, found_spans):
        yield from execute_chunk(connection, name, statement, params)


def blocks_meeting_pairs(
    connection: Connection, wanted: list[PairInterval], found_spans: dict[tuple[str, str], int]
) -> dict[tuple[str, str], list[BlockRecord]]:
    """`blocks_meeting_any` of many pairs: per pair, its current actions and holdings
    intersecting any of its intervals (each once)."""
    found: dict[tuple[str, str], dict[tuple[str, str, str], BlockRecord]] = {}
    make = BlockRecord._make
    for params in _pair_chunks(wanted, found_spans):
        for table in (actions, holdings):
            statement = _PAIR_MEETING_SQL[(table.name, _lateral(connection))]
            name = f"pair meeting {table.name}"
            for row in execute_chunk(connection, name, statement, params):
                record = make(row)
                pair = (record.cooperative_approach_id, record.party_registry_id)
                found.setdefault(pair, {})[record.identity] = record
    return {pair: list(records.values()) for pair, records in found.items()}


def issuances(
    connection: Connection, underlying: Iterable[str] | None = None
) -> Iterator[BlockRecord]:
    """Issuances resting on underlying units (all, or of these underlying registries)."""
    statement = select(*action_columns(True)).where(
        actions.c.action_type.in_(sorted(ISSUANCES)),
        actions.c.underlying_registry_id.is_not(None),
        actions.c.first_unit_id.is_not(None),
    )
    if underlying is not None:
        statement = statement.where(actions.c.underlying_registry_id.in_(sorted(set(underlying))))
    return stream(connection, statement)
