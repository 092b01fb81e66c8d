"""The index tables as the detection reads them: the column lists that make a row a
`BlockRecord` or an `AuthorizationVersion` (`._make(row)`), in their field order.
Dates come back as ISO text. An authorization comes with the `acts_for` of the
registry reporting it (`versions_select`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Select, String, Table, cast, literal, null, select

from metareg.db.tables.index import Action, Authorization, BlockSpan, Holding, Registry
from metareg.detection.rules.terms import BlockRecord

STREAM_BATCH = 20_000

actions = Action
holdings = Holding
authorizations = Authorization
spans = BlockSpan
registries = Registry


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
        t.c.using_entity_id,
        *([null()] * 3),  # as_of, account_id, account_type
        *units,
    ]


def holding_columns() -> list[Any]:
    """A holding as a `BlockRecord`."""
    t = holdings
    return [
        *_block_columns("holding", t),
        *([null()] * 8),  # action_type .. using_entity_id
        cast(t.c.as_of, String),
        t.c.account_id,
        t.c.account_type,
        *([null()] * 3),  # underlying_registry_id, first_unit_id, last_unit_id
    ]


def versions_select() -> Select[Any]:
    """Authorizations as `AuthorizationVersion`s, each with its registry's `acts_for`
    (a registry the index does not list acts for its own Party only)."""
    t = authorizations
    return select(
        t.c.registry_id,
        t.c.uid,
        t.c.cooperative_approach_id,
        t.c.authorization_id,
        t.c.version,
        cast(t.c.authorization_date, String),
        t.c.authorizing_party_id,
        t.c.authorized_quantity,
        t.c.purposes,
        t.c.authorized_party_ids,
        t.c.authorized_entity_ids,
        t.c.timeframe_start,
        t.c.timeframe_end,
        t.c.status,
        t.c.content_hash,
        registries.c.acts_for,
    ).select_from(t.outerjoin(registries, registries.c.id == t.c.registry_id))


def stream(
    connection: Connection, statement: Any, params: dict[str, Any] | None = None
) -> Iterator[BlockRecord]:
    """The rows of a statement over block columns, as `BlockRecord`s, in batches."""
    make = BlockRecord._make
    # Per statement: Connection.execution_options would change the connection itself.
    result = connection.execute(statement.execution_options(yield_per=STREAM_BATCH), params or {})
    for row in result:
        yield make(row)
