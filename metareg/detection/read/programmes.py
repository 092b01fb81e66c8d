"""Reading what the programme rules (DC15, DC16) judge: the current `unit_status`
records of crediting programmes, and the ITMO issuances resting on a programme's
units with the range the index parsed when it stored them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    and_,
    bindparam,
    cast,
    or_,
    select,
    text,
)

from metareg.db.tables.index import (
    STATUS_RANGE_WHERE,
    STATUS_UNPARSED_WHERE,
    UNIT_RANGE_WHERE,
    UNIT_UNPARSED_WHERE,
    UnitStatus,
)
from metareg.detection.read.columns import action_columns, actions
from metareg.detection.rules.programmes import ProgrammeUnits, UnitStatusRecord
from metareg.detection.rules.terms import BlockRecord

statuses_table = UnitStatus
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
    statement = _narrowed(select(*status_columns()), underlying, narrows)
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


def _meeting_bound(parsed: bool) -> ColumnElement[bool]:
    """`meeting` on the statuses' columns with bound parameters (`meeting_params`), for
    units that parse (`parsed`) or not: built once, not per lookup."""
    t = statuses_table
    # `units.texts` holds one or two texts: two parameters (the same text twice for one).
    texts = t.c.first_unit_id.in_([bindparam("text0"), bindparam("text1")])
    conditions = [and_(t.c.unit_prefix.is_(None), texts)]
    if parsed:
        conditions.append(
            and_(
                t.c.unit_prefix == bindparam("prefix"),
                t.c.unit_first <= bindparam("last"),
                t.c.unit_last >= bindparam("first"),
            )
        )
    else:
        conditions.append(t.c.unit_prefix == bindparam("first_text"))
    return and_(t.c.underlying_registry_id == bindparam("programme"), or_(*conditions))


def meeting_params(units: ProgrammeUnits) -> dict[str, Any]:
    """The parameters of the statements built on `_meeting_bound` for `units`."""
    texts = sorted(units.texts)
    return {
        "programme": units.programme,
        "text0": texts[0],
        "text1": texts[-1],
        "prefix": units.prefix,
        "first": units.first,
        "last": units.last,
        "first_text": units.first_text,
    }


# Built once per shape: the authorization check looks up the statuses on each of its
# block's issuances, and building the select per lookup cost more than running it.
_STATUSES_MEETING = {
    parsed: select(*status_columns()).where(_meeting_bound(parsed)) for parsed in (True, False)
}
_STATUS_ROWS_MEETING = {
    parsed: select(statuses_table)
    .where(_meeting_bound(parsed))
    .order_by(statuses_table.c.status_date, statuses_table.c.registry_id, statuses_table.c.uid)
    for parsed in (True, False)
}


def statuses_meeting(connection: Connection, units: ProgrammeUnits) -> list[UnitStatusRecord]:
    """The current statuses of the units' programme that may share a unit with them."""
    statement = _STATUSES_MEETING[units.prefix is not None]
    rows = connection.execute(statement, meeting_params(units))
    return [UnitStatusRecord._make(row) for row in rows]


def status_rows_meeting(connection: Connection, units: ProgrammeUnits) -> list[Row[Any]]:
    """`statuses_meeting` as whole `unit_status` rows (every column), oldest first (by
    status date, reporting registry, uid): what both the programme rules
    (`status_record`) and a display of the statuses read."""
    statement = _STATUS_ROWS_MEETING[units.prefix is not None]
    return list(connection.execute(statement, meeting_params(units)))


def status_record(row: Row[Any]) -> UnitStatusRecord:
    """A whole `unit_status` row (`status_rows_meeting`) as the rules' record: the
    columns of `status_columns`, the status date as ISO text."""
    m = row._mapping
    return UnitStatusRecord._make(
        (None if m[name] is None else str(m[name])) if name == "status_date" else m[name]
        for name in UnitStatusRecord._fields
    )


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


def _narrowed(
    statement: Any,
    underlying: Iterable[str] | None,
    narrows: Iterable[tuple[tuple[str, frozenset[str]], ...]] | None,
) -> Any:
    t = statuses_table
    if underlying is not None:
        statement = statement.where(t.c.underlying_registry_id.in_(sorted(set(underlying))))
    if narrows is not None:
        conditions = [
            and_(*(t.c[name].in_(sorted(values)) for name, values in condition))
            for condition in narrows
        ]
        statement = statement.where(or_(*conditions))
    return statement


def parsed_pairs(
    connection: Connection,
    underlying: Iterable[str] | None = None,
    narrows: Iterable[tuple[tuple[str, frozenset[str]], ...]] | None = None,
) -> list[tuple[BlockRecord, UnitStatusRecord]]:
    """Every (issuance, status) of the same programme whose stored ranges share a unit
    (the same batch, intersecting blocks: `rules.programmes.ranges_meet` of two parsed
    ranges), the statuses limited as in `statuses`: one join in the database, each
    kept status looking up the issuances of its batch through ix_action_unit_range
    (or each issuance its statuses through ix_unit_status_range, as the planner
    finds cheaper), so neither side is read whole."""
    t, a = statuses_table, actions
    statement = select(*action_columns(True), *status_columns()).select_from(
        t.join(
            a,
            and_(
                a.c.underlying_registry_id == t.c.underlying_registry_id,
                a.c.underlying_prefix == t.c.unit_prefix,
                a.c.underlying_first <= t.c.unit_last,
                a.c.underlying_last >= t.c.unit_first,
            ),
        )
    )
    # Both partial indexes' conditions, spelled as they are (SQLite needs the terms).
    statement = statement.where(text(f"unit_statuses.{STATUS_RANGE_WHERE}")).where(
        text(f"actions.{UNIT_RANGE_WHERE}")
    )
    statement = _narrowed(statement, underlying, narrows)
    width = len(BlockRecord._fields)
    block, status = BlockRecord._make, UnitStatusRecord._make
    return [(block(row[:width]), status(row[width:])) for row in connection.execute(statement)]


def unparsed_statuses(
    connection: Connection,
    underlying: Iterable[str] | None = None,
    narrows: Iterable[tuple[tuple[str, frozenset[str]], ...]] | None = None,
) -> list[UnitStatusRecord]:
    """The statuses limited as in `statuses` that have no stored range (batch ids and
    serials no parser reads: few), through ix_unit_status_text."""
    statement = select(*status_columns()).where(text(STATUS_UNPARSED_WHERE))
    statement = _narrowed(statement, underlying, narrows)
    return [UnitStatusRecord._make(row) for row in connection.execute(statement)]


def issuances_in_batches(
    connection: Connection, programme: str, batches: Iterable[str]
) -> list[BlockRecord]:
    """The issuances resting on this programme's units whose stored batch is one of
    `batches`, through ix_action_unit_range."""
    t = actions
    keys = sorted(set(batches))
    found: list[BlockRecord] = []
    for n in range(0, len(keys), KEY_CHUNK):
        statement = select(*action_columns(True)).where(
            text(UNIT_RANGE_WHERE),
            t.c.underlying_registry_id == programme,
            t.c.underlying_prefix.in_(keys[n : n + KEY_CHUNK]),
        )
        found += [BlockRecord._make(row) for row in connection.execute(statement)]
    return found


def unparsed_issuances(
    connection: Connection, underlying: Iterable[str] | None = None
) -> list[BlockRecord]:
    """The issuances resting on programme units without a stored range (few: batch ids
    and serials no parser reads), through ix_action_unit_unparsed."""
    t = actions
    statement = select(*action_columns(True)).where(
        text(UNIT_UNPARSED_WHERE), t.c.action_type == "Issuance"
    )
    if underlying is not None:
        statement = statement.where(t.c.underlying_registry_id.in_(sorted(set(underlying))))
    return [BlockRecord._make(row) for row in connection.execute(statement)]
