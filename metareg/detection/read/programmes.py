"""Reading what the programme rules (DC15, DC16) judge: the current `unit_status`
records of crediting programmes, and the ITMO issuances resting on a programme's
units with the range the index parsed when it stored them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, and_, cast, or_, select

from metareg.db.tables.index import UNIT_RANGE_WHERE, UNIT_UNPARSED_WHERE, UnitStatus
from metareg.detection.read.columns import action_columns, actions
from metareg.detection.rules.programmes import ProgrammeUnits, UnitStatusRecord
from metareg.detection.rules.terms import BlockRecord

statuses_table = UnitStatus.__table__  # type: ignore[attr-defined]
STREAM_BATCH = 20_000


def status_columns() -> list[Any]:
    """A `unit_status` row as a `UnitStatusRecord`, in its field order."""
    t = statuses_table
    return [
        t.c.registry_id,
        t.c.uid,
        t.c.underlying_registry_id,
        t.c.first_unit_id,
        t.c.last_unit_id,
        t.c.status,
        cast(t.c.status_date, String),
        t.c.purpose,
        t.c.article6_label,
        t.c.unit_prefix,
        t.c.unit_first,
        t.c.unit_last,
        t.c.quantity,
        t.c.beneficiary,
    ]


def statuses(
    connection: Connection,
    underlying: Iterable[str] | None = None,
    narrows: Iterable[tuple[tuple[str, frozenset[str]], ...]] | None = None,
) -> list[UnitStatusRecord]:
    """The current statuses (all, or of these programmes); with `narrows`, only those
    meeting one of the conditions (each: every column holds one of its values)."""
    t = statuses_table
    statement = select(*status_columns())
    if underlying is not None:
        statement = statement.where(t.c.underlying_registry_id.in_(sorted(set(underlying))))
    if narrows is not None:
        conditions = [
            and_(*(t.c[name].in_(sorted(values)) for name, values in condition))
            for condition in narrows
        ]
        statement = statement.where(or_(*conditions))
    make = UnitStatusRecord._make
    result = connection.execute(statement.execution_options(yield_per=STREAM_BATCH))
    return [make(row) for row in result]


KEY_CHUNK = 500


def resting_issuances(
    connection: Connection, programme: str, batches: Iterable[str] | None = None
) -> Iterator[tuple[BlockRecord, str | None, int | None, int | None]]:
    """The current issuances resting on this programme's units, with the range the
    index stored for it (None where its serials do not parse): all, or (`batches`)
    those whose stored batch is one of these, plus every one without a stored range
    (few: batch ids and serials no parser reads), read through ix_action_unit_range."""
    t = actions
    base = select(
        *action_columns(True), t.c.underlying_prefix, t.c.underlying_first, t.c.underlying_last
    ).where(
        t.c.action_type == "Issuance",
        t.c.underlying_registry_id == programme,
        t.c.first_unit_id.is_not(None),
    )
    if batches is None:
        statements = [base]
    else:
        keys = sorted(set(batches))
        statements = [base.where(t.c.underlying_prefix.is_(None))] + [
            base.where(t.c.underlying_prefix.in_(keys[n : n + KEY_CHUNK]))
            for n in range(0, len(keys), KEY_CHUNK)
        ]
    make = BlockRecord._make
    width = len(BlockRecord._fields)
    for statement in statements:
        result = connection.execute(statement.execution_options(yield_per=STREAM_BATCH))
        for row in result:
            yield make(row[:width]), row[width], row[width + 1], row[width + 2]


def meeting(
    units: ProgrammeUnits, prefix: Any, first: Any, last: Any, text: Any
) -> ColumnElement[bool]:
    """The SQL condition for stored units (columns `prefix`, `first`, `last`, `text`,
    of the same programme) that may share a unit with `units`: a superset of
    `rules.programmes.ranges_meet`, which decides (it needs only the index)."""
    # A batch id or unparsed text stored: the same text, or the batch of the units.
    conditions = [and_(prefix.is_(None), text.in_(sorted(units.texts)))]
    if units.prefix is not None:
        conditions.append(and_(prefix == units.prefix, first <= units.last, last >= units.first))
    else:
        # The units are a batch id or an unparsed text: stored ranges in that batch.
        conditions.append(prefix == units.first_text)
    return or_(*conditions)


def statuses_meeting(connection: Connection, units: ProgrammeUnits) -> list[UnitStatusRecord]:
    """The current statuses of the units' programme that may share a unit with them."""
    t = statuses_table
    statement = select(*status_columns()).where(
        t.c.underlying_registry_id == units.programme,
        meeting(units, t.c.unit_prefix, t.c.unit_first, t.c.unit_last, t.c.first_unit_id),
    )
    return [UnitStatusRecord._make(row) for row in connection.execute(statement)]


def issuances_meeting(connection: Connection, units: ProgrammeUnits) -> list[BlockRecord]:
    """The current ITMO issuances resting on units of the programme that may share a
    unit with them."""
    t = actions
    statement = select(*action_columns(True)).where(
        t.c.action_type == "Issuance",
        t.c.underlying_registry_id == units.programme,
        t.c.first_unit_id.is_not(None),
        meeting(
            units,
            t.c.underlying_prefix,
            t.c.underlying_first,
            t.c.underlying_last,
            t.c.first_unit_id,
        ),
    )
    return [BlockRecord._make(row) for row in connection.execute(statement)]


# (row id, stored batch, first, last, first unit id): the batch and block None (and
# the text given) where the issuance has no stored range, the text None otherwise.
RestingRange = tuple[int, str | None, int | None, int | None, str | None]

# Hand-written and run on the driver's own cursor, like DC03's screen: a few integers
# per issuance from the partial indexes alone (each WHERE spells its index's condition,
# which SQLite needs to use a partial index).
_PARSED_SQL = (
    "SELECT id, underlying_prefix, underlying_first, underlying_last FROM actions "
    f"WHERE {UNIT_RANGE_WHERE} AND underlying_registry_id = {{marker}}"
)
_UNPARSED_SQL = (
    "SELECT id, first_unit_id FROM actions "
    f"WHERE {UNIT_UNPARSED_WHERE} AND underlying_registry_id = {{marker}} "
    "AND action_type = 'Issuance'"
)


def _fetch(connection: Connection, sql: str, programme: str) -> list[Any]:
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql.format(marker=marker), (programme,))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def resting_ranges(
    connection: Connection, programme: str, batches: Iterable[str]
) -> list[RestingRange]:
    """The stored ranges of the issuances resting on this programme's units whose batch
    is one of `batches`, and every one without a stored range (the screen's input).
    Only issuances have a stored range (metareg.index.unitrange)."""
    keys = set(batches)
    found: list[RestingRange] = [
        (row_id, prefix, first, last, None)
        for row_id, prefix, first, last in _fetch(connection, _PARSED_SQL, programme)
        if prefix in keys
    ]
    found += [
        (row_id, None, None, None, text)
        for row_id, text in _fetch(connection, _UNPARSED_SQL, programme)
    ]
    return found
