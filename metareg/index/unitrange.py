"""An action's parsed underlying units, derived once when the index stores it.

DC03 compares issuances by their underlying units once each serial is parsed. Parsing
costs ~4 µs per issuance, too much to repeat over every issuance on every full check,
so the writer (and migration 0006 for existing rows) stores the `UnitRange` of each
issuance DC03 judges in three columns of `actions`: `underlying_prefix`,
`underlying_first`, `underlying_last` (`UNIT_RANGE_COLUMNS`). They are NULL when DC03
does not judge the action, when its serials cannot be parsed, or when a block number
does not fit a signed 64-bit column. They are derived, never part of the record: the
content hash, history and every view of a record leave them out.

The value is exactly `dc03.unit_range`, which calls `parse_units` here, so the
screened pass (metareg.detection.prefilter.units) sees what the exact check computes. This
module lives with the writer, not under metareg.detection, so that storing records
never imports the detection package (its runner, numpy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metareg.db.tables.index import UNIT_RANGE_COLUMNS
from metareg.records.serials import SerialError, UnitRange, parse_serial, parse_serial_range

__all__ = [
    "NO_UNITS",
    "UNIT_RANGE_COLUMNS",
    "derive",
    "derive_status",
    "parse_units",
    "status_columns",
    "unit_columns",
]

# Signed 64-bit: the columns are BIGINT on PostgreSQL and INTEGER on SQLite.
MAX_STORED = 2**63 - 1
NO_UNITS: tuple[None, None, None] = (None, None, None)


def parse_units(
    first_unit_id: str, last_unit_id: str | None, underlying: str | None
) -> UnitRange | None:
    """DC03's reading of an issuance's underlying units (`dc03.unit_range`): the block
    from the first to the last unit id (a missing or equal last id: the first alone),
    or None when the serials cannot be parsed."""
    try:
        if last_unit_id and last_unit_id != first_unit_id:
            return parse_serial_range(first_unit_id, last_unit_id, underlying)
        return parse_serial(first_unit_id, underlying)
    except SerialError:
        return None


def derive(
    action_type: Any, underlying: Any, first_unit_id: Any, last_unit_id: Any
) -> tuple[str, int, int] | tuple[None, None, None]:
    """(prefix, first, last) for an issuance DC03 judges and whose serials parse into
    a range that fits the columns; NO_UNITS otherwise. Mirrors `dc03.judged`."""
    if action_type != "Issuance" or not underlying or not first_unit_id:
        return NO_UNITS
    units = parse_units(first_unit_id, last_unit_id, underlying)
    if units is None or units.last > MAX_STORED or units.first < 0:
        return NO_UNITS
    return units.prefix, units.first, units.last


def unit_columns(record: Mapping[str, Any]) -> tuple[str, int, int] | tuple[None, None, None]:
    """`derive` on a canonical action record (RECORDS.md field names)."""
    return derive(
        record.get("action_type"),
        record.get("underlying_registry_id"),
        record.get("first_unit_id"),
        record.get("last_unit_id"),
    )


def derive_status(
    underlying: Any, first_unit_id: Any, last_unit_id: Any
) -> tuple[str, int, int] | tuple[None, None, None]:
    """(prefix, first, last) of a programme's `unit_status` range, parsed by the same
    serial parsers as an issuance's underlying units; NO_UNITS where they cannot be
    parsed (a batch id such as Cercarbono's or Isometric's: matched by its exact text)."""
    if not underlying or not first_unit_id:
        return NO_UNITS
    units = parse_units(first_unit_id, last_unit_id, underlying)
    if units is None or units.last > MAX_STORED or units.first < 0:
        return NO_UNITS
    return units.prefix, units.first, units.last


def status_columns(record: Mapping[str, Any]) -> tuple[str, int, int] | tuple[None, None, None]:
    """`derive_status` on a canonical unit_status record."""
    return derive_status(
        record.get("underlying_registry_id"),
        record.get("first_unit_id"),
        record.get("last_unit_id"),
    )
