"""The index tables as the detection reads them: the column lists that make a row a
`BlockRecord` or an `AuthorizationVersion` (`._make(row)`), in their field order.
Dates come back as ISO text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, String, Table, cast, literal, null

from metareg.db.tables.index import Action, Authorization, BlockSpan, Holding
from metareg.detection.rules.terms import BlockRecord

STREAM_BATCH = 20_000

actions = Action.__table__  # type: ignore[attr-defined]
holdings = Holding.__table__  # type: ignore[attr-defined]
authorizations = Authorization.__table__  # type: ignore[attr-defined]
spans = BlockSpan.__table__  # type: ignore[attr-defined]


def _block_columns(record_type: str, t: Table) -> list[Any]:
    """The `BlockRecord` fields every block record has, in field order (the first twelve)."""
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


def action_columns(with_units: bool = False) -> list[Any]:
    """An action as a `BlockRecord` (`with_units`: with its underlying units, which
    only DC03 reads)."""
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


def holding_columns() -> list[Any]:
    """A holding as a `BlockRecord`."""
    t = holdings
    return [
        *_block_columns("holding", t),
        *([null()] * 7),  # action_type .. using_party_id
        cast(t.c.as_of, String),
        t.c.account_id,
        t.c.account_type,
        *([null()] * 3),  # underlying_registry_id, first_unit_id, last_unit_id
    ]


def authorization_columns() -> list[Any]:
    """An authorization as an `AuthorizationVersion`."""
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


def stream(
    connection: Connection, statement: Any, params: dict[str, Any] | None = None
) -> Iterator[BlockRecord]:
    """The rows of a statement over block columns, as `BlockRecord`s, in batches."""
    make = BlockRecord._make
    # Per statement: Connection.execution_options would change the connection itself.
    result = connection.execute(statement.execution_options(yield_per=STREAM_BATCH), params or {})
    for row in result:
        yield make(row)
