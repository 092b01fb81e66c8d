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
    Connection,
    String,
    Table,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)

from metareg.db.tables import Action, Authorization, BlockSpan, Holding
from metareg.db.upsert import batched
from metareg.detection.model import AuthRec, Rec

STREAM_BATCH = 20_000
IDENTITY_CHUNK = 500  # uids per lookup by identity

actions = Action.__table__  # type: ignore[attr-defined]
holdings = Holding.__table__  # type: ignore[attr-defined]
authorizations = Authorization.__table__  # type: ignore[attr-defined]
spans = BlockSpan.__table__  # type: ignore[attr-defined]


def _action_columns(with_units: bool) -> list[Any]:
    t = actions
    units = (
        [t.c.underlying_registry_id, t.c.first_unit_id, t.c.last_unit_id]
        if with_units
        else [null(), null(), null()]
    )
    return [
        literal("action"),
        t.c.registry_id,
        t.c.uid,
        t.c.cooperative_approach_id,
        t.c.party_registry_id,
        t.c.first_id,
        t.c.last_id,
        t.c.first_transferring_party_id,
        t.c.vintage,
        t.c.metric,
        t.c.mitigation_type,
        t.c.quantity_tco2e,
        t.c.action_type,
        cast(t.c.action_date, String),
        t.c.authorization_id,
        t.c.transferring_party_id,
        t.c.acquiring_party_id,
        t.c.purpose,
        t.c.using_party_id,
        null(),
        null(),
        null(),
        *units,
    ]


def _holding_columns() -> list[Any]:
    t = holdings
    return [
        literal("holding"),
        t.c.registry_id,
        t.c.uid,
        t.c.cooperative_approach_id,
        t.c.party_registry_id,
        t.c.first_id,
        t.c.last_id,
        t.c.first_transferring_party_id,
        t.c.vintage,
        t.c.metric,
        t.c.mitigation_type,
        t.c.quantity_tco2e,
        *([null()] * 7),
        cast(t.c.as_of, String),
        t.c.account_id,
        t.c.account_type,
        null(),
        null(),
        null(),
    ]


def _stream(
    connection: Connection, statement: Any, params: dict[str, Any] | None = None
) -> Iterator[Rec]:
    make = Rec._make
    # Per statement: Connection.execution_options would change the connection itself.
    result = connection.execute(statement.execution_options(yield_per=STREAM_BATCH), params or {})
    for row in result:
        yield make(row)


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
_RANGE_ENDS = union_all(
    select(actions.c.first_id.label("f"), actions.c.last_id.label("l")).where(*_in_range(actions)),
    select(holdings.c.first_id.label("f"), holdings.c.last_id.label("l")).where(
        *_in_range(holdings)
    ),
).subquery()
_ACTIONS_WITH = select(*_action_columns(False)).where(
    actions.c.registry_id == bindparam("registry"),
    actions.c.uid.in_(bindparam("uids", expanding=True)),
)
_HULL = select(func.min(_RANGE_ENDS.c.f), func.max(_RANGE_ENDS.c.l))
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


def hull(
    connection: Connection, ca: str, registry: str, first: int, last: int, span: int | None
) -> tuple[int, int]:
    """The smallest range containing [first, last] and every block intersecting it."""
    if span is None:
        return first, last
    params = {"ca": ca, "registry": registry, "low": first - span, "last": last, "first": first}
    low, high = connection.execute(_HULL, params).one()
    if low is None:
        return first, last
    return min(first, low), max(last, high)


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
