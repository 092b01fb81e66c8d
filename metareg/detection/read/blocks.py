"""Reading the index for the checks: only the columns the rules need, streamed.

Blocks are read per (cooperative approach, originating registry), in `first_id`
order, through the (ca, registry, first_id) index of each table; actions and
holdings are merged in Python. Grouping never relies on how the database collates
text, so SQLite and PostgreSQL give the same result. Dates come back as ISO text.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    Table,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal,
    null,
    select,
    true,
    values,
)

from metareg.db.tables.index import Action, Authorization, BlockSpan, Holding
from metareg.db.upsert import batched
from metareg.detection.rules.terms import AuthRec, Rec

STREAM_BATCH = 20_000
IDENTITY_CHUNK = 500  # uids per lookup by identity

actions = Action.__table__  # type: ignore[attr-defined]
holdings = Holding.__table__  # type: ignore[attr-defined]
authorizations = Authorization.__table__  # type: ignore[attr-defined]
spans = BlockSpan.__table__  # type: ignore[attr-defined]


def _block_columns(record_type: str, t: Table) -> list[Any]:
    """The `Rec` fields every block record has, in `Rec` order (the first twelve)."""
    names = (
        "registry_id",
        "uid",
        "cooperative_approach_id",
        "party_registry_id",
        "first_id",
        "last_id",
        "first_transferring_party_id",
        "vintage",
        "metric",
        "mitigation_type",
        "quantity_tco2e",
    )
    return [literal(record_type), *(t.c[name] for name in names)]


def _action_columns(with_units: bool) -> list[Any]:
    t = actions
    units = (
        [t.c.underlying_registry_id, t.c.first_unit_id, t.c.last_unit_id]
        if with_units
        else [null(), null(), null()]
    )
    return [
        *_block_columns("action", t),
        t.c.action_type,
        cast(t.c.action_date, String),
        t.c.authorization_id,
        t.c.transferring_party_id,
        t.c.acquiring_party_id,
        t.c.purpose,
        t.c.using_party_id,
        *([null()] * 3),  # as_of, account_id, account_type
        *units,
    ]


def _holding_columns() -> list[Any]:
    t = holdings
    return [
        *_block_columns("holding", t),
        *([null()] * 7),  # action_type .. using_party_id
        cast(t.c.as_of, String),
        t.c.account_id,
        t.c.account_type,
        *([null()] * 3),  # underlying_registry_id, first_unit_id, last_unit_id
    ]


def _stream(
    connection: Connection, statement: Any, params: dict[str, Any] | None = None
) -> Iterator[Rec]:
    make = Rec._make
    # Per statement: Connection.execution_options would change the connection itself.
    result = connection.execute(statement.execution_options(yield_per=STREAM_BATCH), params or {})
    for row in result:
        yield make(row)


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
    (an index range on (ca, registry, first_id)) and end at or after `first`."""
    return [
        *_in_pair(table),
        table.c.first_id >= bindparam("low"),
        table.c.first_id <= bindparam("last"),
        table.c.last_id >= bindparam("first"),
    ]


# Built once: executing a prepared statement skips SQLAlchemy's per-query construction,
# which dominates the incremental check (thousands of small range queries).
_PAIR_ACTIONS = (
    select(*_action_columns(False)).where(*_in_pair(actions)).order_by(actions.c.first_id)
)
_PAIR_HOLDINGS = (
    select(*_holding_columns()).where(*_in_pair(holdings)).order_by(holdings.c.first_id)
)
_RANGE_ACTIONS = select(*_action_columns(False)).where(*_in_range(actions))
_RANGE_HOLDINGS = select(*_holding_columns()).where(*_in_range(holdings))
_ACTIONS_WITH = select(*_action_columns(False)).where(
    actions.c.registry_id == bindparam("registry"),
    actions.c.uid.in_(bindparam("uids", expanding=True)),
)
ID_CHUNK = 500  # row ids per lookup
_NO_ID = 0  # pads a chunk of ids: row ids start at 1


def _by_ids(table: Table, columns: list[Any]) -> Any:
    """Rows of `table` with the ids :i0 .. :i<ID_CHUNK - 1> (one statement shape for
    every chunk, so it is compiled once)."""
    return select(*columns).where(table.c.id.in_([bindparam(f"i{n}") for n in range(ID_CHUNK)]))


_ACTIONS_BY_ID = _by_ids(actions, _action_columns(False))
_HOLDINGS_BY_ID = _by_ids(holdings, _holding_columns())
_SPAN = select(spans.c.max_span).where(
    spans.c.cooperative_approach_id == bindparam("ca"),
    spans.c.party_registry_id == bindparam("registry"),
)


def max_span(connection: Connection, ca: str, registry: str) -> int | None:
    return connection.execute(_SPAN, {"ca": ca, "registry": registry}).scalar()


def blocks(connection: Connection, ca: str, registry: str) -> Iterator[Rec]:
    """Every current action and holding of (ca, registry), in `first_id` order: two
    index-ordered streams merged."""
    params = {"ca": ca, "registry": registry}
    return heapq.merge(
        _stream(connection, _PAIR_ACTIONS, params),
        _stream(connection, _PAIR_HOLDINGS, params),
        key=lambda r: r.first_id,
    )


def blocks_by_id(
    connection: Connection, action_ids: Iterable[int], holding_ids: Iterable[int]
) -> list[Rec]:
    """The current actions and holdings with these row ids (the screen's suspects),
    read through the driver's own cursor (rows become `Rec`s directly)."""
    make = Rec._make
    found: list[Rec] = []
    for name, statement, ids in (
        ("actions by id", _ACTIONS_BY_ID, action_ids),
        ("holdings by id", _HOLDINGS_BY_ID, holding_ids),
    ):
        for chunk in batched(sorted(ids), ID_CHUNK):
            padded = list(chunk) + [_NO_ID] * (ID_CHUNK - len(chunk))
            params = {f"i{n}": value for n, value in enumerate(padded)}
            found += [make(row) for row in _execute_chunk(connection, name, statement, params)]
    return found


def blocks_meeting(
    connection: Connection, ca: str, registry: str, first: int, last: int, span: int | None
) -> list[Rec]:
    """Current actions and holdings of (ca, registry) intersecting [first, last]
    (touching blocks do not), given the pair's max span; unordered."""
    if span is None:
        return []
    params = {"ca": ca, "registry": registry, "low": first - span, "last": last, "first": first}
    make = Rec._make
    found = [make(row) for row in connection.execute(_RANGE_ACTIONS, params)]
    found += [make(row) for row in connection.execute(_RANGE_HOLDINGS, params)]
    return found


INTERVAL_CHUNK = 100  # intervals per batched range query (compiled once per dialect)
_NO_INTERVAL = (1, 0)  # pads a chunk: no block lies in it (serials start at 1)


def _touched() -> Any:
    """A chunk of intervals as a CTE of bound parameters: the same statement for every
    chunk (padded to its size), so it is compiled once."""
    rows = [
        (cast(bindparam(f"lo{n}"), BigInteger), cast(bindparam(f"hi{n}"), BigInteger))
        for n in range(INTERVAL_CHUNK)
    ]
    return (
        values(column("lo", BigInteger), column("hi", BigInteger), name="touched")
        .data(rows)
        .cte("touched")
    )


def _meeting_interval(table: Table, touched: Any) -> Any:
    """Blocks of (ca, registry) intersecting the interval of each `touched` row."""
    return and_(
        *_in_pair(table),
        table.c.first_id >= touched.c.lo - bindparam("span"),
        table.c.first_id <= touched.c.hi,
        table.c.last_id >= touched.c.lo,
    )


def _hull_statement(table: Table, lateral: bool) -> Any:
    touched = _touched()
    if lateral:
        reach = (
            select(func.min(table.c.first_id).label("low"), func.max(table.c.last_id).label("high"))
            .where(_meeting_interval(table, touched))
            .lateral("reach")
        )
        return select(touched.c.lo, touched.c.hi, reach.c.low, reach.c.high).select_from(
            touched.join(reach, true())
        )
    return (
        select(touched.c.lo, touched.c.hi, func.min(table.c.first_id), func.max(table.c.last_id))
        .select_from(touched.join(table, _meeting_interval(table, touched)))
        .group_by(touched.c.lo, touched.c.hi)
    )


def _meeting_statement(table: Table, columns: list[Any], lateral: bool) -> Any:
    touched = _touched()
    if lateral:
        # OFFSET 0 keeps PostgreSQL from flattening the subquery back into a join.
        inner = select(*columns).where(_meeting_interval(table, touched)).offset(0)
        found = inner.lateral("found")
        return select(found).select_from(touched.join(found, true()))
    return select(*columns).select_from(touched.join(table, _meeting_interval(table, touched)))


# SQLite loops over the intervals and searches the index for each. PostgreSQL would
# rather scan the pair's whole index range once per chunk and filter (measured: 43 s
# for an incremental check at 1M): a LATERAL subquery makes it search per interval.
_HULL_SQL = {
    (table.name, lateral): _hull_statement(table, lateral)
    for table in (actions, holdings)
    for lateral in (False, True)
}
_MEETING_SQL = {
    (table.name, lateral): _meeting_statement(table, columns, lateral)
    for table, columns in ((actions, _action_columns(False)), (holdings, _holding_columns()))
    for lateral in (False, True)
}


def _lateral(connection: Connection) -> bool:
    return connection.dialect.name != "sqlite"  # SQLite has no LATERAL


_COMPILED: dict[tuple[str, str], Any] = {}


def _execute_chunk(
    connection: Connection, name: str, statement: Any, params: dict[str, Any]
) -> Any:
    """Run a chunk statement compiled once per dialect (SQLAlchemy does not cache
    statements holding a VALUES clause; compiling one of a few hundred rows costs more
    than running it)."""
    key = (connection.dialect.name, name)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = statement.compile(dialect=connection.dialect)
    bound = compiled.construct_params(params)
    if compiled.positional:
        return connection.exec_driver_sql(
            compiled.string, tuple(bound[name] for name in compiled.positiontup)
        )
    return connection.exec_driver_sql(compiled.string, bound)


def _chunk_params(chunk: list[tuple[int, int]], **fixed: Any) -> dict[str, Any]:
    padded = chunk + [_NO_INTERVAL] * (INTERVAL_CHUNK - len(chunk))
    params = dict(fixed)
    for n, (lo, hi) in enumerate(padded):
        params[f"lo{n}"], params[f"hi{n}"] = lo, hi
    return params


def hulls(
    connection: Connection,
    ca: str,
    registry: str,
    intervals: list[tuple[int, int]],
    span: int | None,
) -> list[tuple[int, int]]:
    """`hull` of each interval, a chunk of intervals per query."""
    if span is None:
        return list(intervals)
    reach = {interval: interval for interval in intervals}
    for chunk in batched(list(intervals), INTERVAL_CHUNK):
        params = _chunk_params(list(chunk), ca=ca, registry=registry, span=span)
        for table in (actions, holdings):
            statement = _HULL_SQL[(table.name, _lateral(connection))]
            rows = _execute_chunk(connection, f"hull {table.name}", statement, params)
            for lo, hi, low, high in rows:
                if (lo, hi) in reach and low is not None:
                    first, last = reach[(lo, hi)]
                    reach[(lo, hi)] = (min(first, low), max(last, high))
    return [reach[interval] for interval in intervals]


def blocks_meeting_any(
    connection: Connection,
    ca: str,
    registry: str,
    intervals: list[tuple[int, int]],
    span: int | None,
) -> list[Rec]:
    """Current actions and holdings of (ca, registry) intersecting any of the
    intervals (each once), a chunk of intervals per query."""
    if span is None:
        return []
    found: dict[tuple[str, str, str], Rec] = {}
    make = Rec._make
    for chunk in batched(list(intervals), INTERVAL_CHUNK):
        params = _chunk_params(list(chunk), ca=ca, registry=registry, span=span)
        for table in (actions, holdings):
            statement = _MEETING_SQL[(table.name, _lateral(connection))]
            for row in _execute_chunk(connection, f"meeting {table.name}", statement, params):
                record = make(row)
                found[record.identity] = record
    return list(found.values())


def issuances(connection: Connection, underlying: Iterable[str] | None = None) -> Iterator[Rec]:
    """Issuances resting on underlying units (all, or of these underlying registries)."""
    statement = select(*_action_columns(True)).where(
        actions.c.action_type == "Issuance",
        actions.c.underlying_registry_id.is_not(None),
        actions.c.first_unit_id.is_not(None),
    )
    if underlying is not None:
        statement = statement.where(actions.c.underlying_registry_id.in_(sorted(set(underlying))))
    return _stream(connection, statement)


def _authorization_columns() -> list[Any]:
    t = authorizations
    return [
        t.c.registry_id,
        t.c.uid,
        t.c.cooperative_approach_id,
        t.c.authorization_id,
        t.c.version,
        t.c.authorizing_party_id,
        t.c.authorized_quantity,
        t.c.purposes,
        t.c.authorized_party_ids,
        t.c.timeframe_start,
        t.c.timeframe_end,
        t.c.status,
    ]


def authorization_versions(
    connection: Connection, keys: Iterable[tuple[str, str]] | None = None
) -> dict[tuple[str, str], list[AuthRec]]:
    """(ca, authorization_id) -> every registry's current versions of it."""
    statement = select(*_authorization_columns())
    if keys is not None:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        statement = statement.where(
            authorizations.c.authorization_id.in_(sorted({aid for _, aid in wanted}))
        )
    found: dict[tuple[str, str], list[AuthRec]] = {}
    for row in connection.execute(statement):
        record = AuthRec._make(row)
        found.setdefault((record.cooperative_approach_id, record.authorization_id), []).append(
            record
        )
    return found


def actions_naming(connection: Connection, ca: str, authorization_id: str | None) -> list[Rec]:
    """The actions of one authorization key (None: those naming no authorization)."""
    from metareg.detection.rules.dc07_missing_authorization import NEEDS_AUTHORIZATION

    if authorization_id:
        condition = actions.c.authorization_id == authorization_id
    else:
        condition = actions.c.authorization_id.is_(None) & actions.c.action_type.in_(
            sorted(NEEDS_AUTHORIZATION)
        )
    statement = select(*_action_columns(False)).where(
        condition, actions.c.cooperative_approach_id == ca
    )
    return list(_stream(connection, statement))


def first_transfer_totals(connection: Connection) -> list[tuple[str, str, int]]:
    """(ca, authorization id, units first transferred under it) for every key."""
    units = func.sum(actions.c.last_id - actions.c.first_id + 1)
    rows = connection.execute(
        select(actions.c.cooperative_approach_id, actions.c.authorization_id, units)
        .where(actions.c.action_type == "First transfer", actions.c.authorization_id.is_not(None))
        .group_by(actions.c.cooperative_approach_id, actions.c.authorization_id)
    )
    return [(ca, aid, int(total)) for ca, aid, total in rows]


def actions_with(connection: Connection, identities: Iterable[tuple[str, str, str]]) -> list[Rec]:
    """The current actions among these identities (registry, "action", uid); those no
    longer current are simply absent."""
    by_registry: dict[str, list[str]] = {}
    for registry_id, record_type, uid in identities:
        if record_type == "action":
            by_registry.setdefault(registry_id, []).append(uid)
    found: list[Rec] = []
    make = Rec._make
    for registry_id, uids in sorted(by_registry.items()):
        for chunk in batched(sorted(set(uids)), IDENTITY_CHUNK):
            found += [
                make(row)
                for row in connection.execute(
                    _ACTIONS_WITH, {"registry": registry_id, "uids": list(chunk)}
                )
            ]
    return found


def _first_transfers_of(ca: str, authorization_id: str) -> list[Any]:
    return [
        actions.c.authorization_id == authorization_id,
        actions.c.cooperative_approach_id == ca,
        actions.c.action_type == "First transfer",
    ]


def first_transfers_from(
    connection: Connection, ca: str, authorization_id: str, since: str, *, that_day: bool = False
) -> list[Rec]:
    """The first transfers under one authorization key dated `since` (ISO) or later
    ("": all of them), or only those dated `since` (`that_day`)."""
    conditions = _first_transfers_of(ca, authorization_id)
    if since:
        day = date.fromisoformat(since)
        conditions.append(
            actions.c.action_date == day if that_day else actions.c.action_date >= day
        )
    return list(_stream(connection, select(*_action_columns(False)).where(*conditions)))


def first_transferred(
    connection: Connection,
    ca: str,
    authorization_id: str,
    before: str | None = None,
    *,
    excluding: tuple[str, str, str] | None = None,
) -> int:
    """Units first transferred under one authorization key (block sizes), all of them
    or only those dated before `before` (ISO; "": none), but for the action
    `excluding` (an identity), summed in SQL."""
    if before == "":
        return 0
    conditions = _first_transfers_of(ca, authorization_id)
    if excluding is not None:
        conditions.append(
            ~((actions.c.registry_id == excluding[0]) & (actions.c.uid == excluding[2]))
        )
    if before is not None:
        conditions.append(actions.c.action_date < date.fromisoformat(before))
    units = func.sum(actions.c.last_id - actions.c.first_id + 1)
    return int(connection.execute(select(units).where(*conditions)).scalar() or 0)
