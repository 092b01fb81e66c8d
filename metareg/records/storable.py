"""Whether a valid record can be stored: every value fits the column that keeps it.

The JSON Schemas say what a record may contain; the index's columns say what the
databases can hold. They differ at the edges: `quantity_tco2e: 1e20` is a valid number
whose normal form (a whole number, so an integer) no 64-bit column and no `orjson`
can take; an authorization `version` of 2**40 is a valid integer that overflows
PostgreSQL's INTEGER; a NUL character is valid JSON text that PostgreSQL refuses. Such
a value would fail the write of its whole page or batch. Read from the current tables'
column types (never field by field), `unstorable` names each such value, so the record
is quarantined with that reason and the records beside it are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, SmallInteger, String

from metareg.db.tables.index import CURRENT_TABLES
from metareg.records.validate import Problem

_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)
_INT16 = (-(2**15), 2**15 - 1)

# column name -> ("int", low, high) | ("float",) | ("text", max length or None)
Limit = tuple[Any, ...]


@cache
def limits(record_type: str) -> Mapping[str, Limit]:
    """What each column of the record type's current table can hold."""
    table = CURRENT_TABLES[record_type]
    found: dict[str, Limit] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, BigInteger):
            found[column.name] = ("int", *_INT64)
        elif isinstance(kind, SmallInteger):
            found[column.name] = ("int", *_INT16)
        elif isinstance(kind, Integer):
            found[column.name] = ("int", *_INT32)
        elif isinstance(kind, Float):
            found[column.name] = ("float",)
        elif isinstance(kind, String):
            found[column.name] = ("text", kind.length)
    return found


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character, which the database cannot store"
    return None


@cache
def _bounds(record_type: str) -> tuple[Mapping[str, int], Mapping[str, tuple[int, int]]]:
    """The columns' limits as the hot path reads them: the longest text per column
    (where one is set), and the integer range per column (where narrower than 64 bits)."""
    text: dict[str, int] = {}
    ints: dict[str, tuple[int, int]] = {}
    for name, limit in limits(record_type).items():
        if limit[0] == "text" and limit[1]:
            text[name] = limit[1]
        elif limit[0] == "int" and tuple(limit[1:]) != _INT64:
            ints[name] = (limit[1], limit[2])
    return text, ints


_NO_LIMIT = 1 << 62


def unstorable(record_type: str, normal: Mapping[str, Any]) -> list[Problem]:
    """A Problem for each value of a normal form that its column cannot hold.

    Every record of an ingest passes here, so the values that fit (all of them, nearly
    always) are recognised by their exact type with one comparison each; any value
    that does not, or of another type, gets the full judgement of `_value_problems`."""
    problems: list[Problem] = []
    text, ints = _bounds(record_type)
    for name, value in normal.items():
        kind = type(value)
        if kind is str:
            if "\x00" not in value and len(value) <= text.get(name, _NO_LIMIT):
                continue
        elif kind is int:
            low, high = ints.get(name, _INT64)
            if low <= value <= high:
                continue
        elif kind is float:
            if value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
                continue
        elif value is None or kind is bool:
            continue
        problems.extend(_value_problems(record_type, name, value))
    return problems


def _value_problems(record_type: str, name: str, value: Any) -> list[Problem]:
    """Why one value cannot be stored in its column (empty when it can)."""
    problems: list[Problem] = []
    path = f"$.{name}"
    limit = limits(record_type).get(name)
    if isinstance(value, bool) or value is None:
        return problems
    if isinstance(value, int):
        low, high = _INT64 if limit is None or limit[0] != "int" else limit[1:]
        if not low <= value <= high:
            problems.append(
                Problem(path, f"{value} cannot be stored: the column holds {low}..{high}")
            )
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            problems.append(Problem(path, f"{value} cannot be stored: not a finite number"))
    elif isinstance(value, str):
        why = _text_problem(value)
        too_long = limit is not None and limit[0] == "text" and limit[1]
        if why is None and too_long and len(value) > limit[1]:  # type: ignore[index]
            why = f"is longer than the {limit[1]} characters the column holds"  # type: ignore[index]
        if why:
            problems.append(Problem(path, why))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            if isinstance(item, str) and (why := _text_problem(item)):
                problems.append(Problem(f"{path}[{n}]", why))
    return problems
