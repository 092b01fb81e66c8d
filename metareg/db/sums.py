"""Sums of unit counts that are exact however large they grow.

A block holds up to 10**18 - 1 units (`records.identifiers.MAX_SERIAL`), so ten of
them already pass 2**63: SQLite's `sum()` of integers then raises "integer overflow"
(PostgreSQL's sum of bigint returns numeric: exact). A registry that reports such
blocks, by mistake or not, must not stop a check, a sync's reconciliation or an answer
of the API. `UnitsSelect` runs the plain `sum()` (one expression a row, as fast as
before), and where SQLite refuses it, the same statement again with the count summed in
two halves, its high and its low 32 bits, put together in Python: each half's sum fits
in 64 bits for fewer than 2**31 rows of a group, and the total is an exact integer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Connection, func, literal_column
from sqlalchemy.exc import OperationalError

_LOW_BITS = 32
_LOW_MASK = (1 << _LOW_BITS) - 1

Build = Callable[[Sequence[Any]], Any]  # the sum columns -> a select ending with them


def _halves(count: Any) -> list[Any]:
    grouped = count.self_group()  # constants written out: PostgreSQL shifts by an integer
    return [
        func.sum(grouped.op(">>", return_type=BigInteger())(literal_column(str(_LOW_BITS)))),
        func.sum(grouped.op("&", return_type=BigInteger())(literal_column(str(_LOW_MASK)))),
    ]


def joined_in_sql(count: str) -> str:
    """The same two sums of the SQL expression `count`, put together in SQL with `*` and
    `+`: exact where the total fits in 64 bits, a float past it on SQLite (its `+` turns
    an overflow into a float where `sum()` raises), for a total kept as SQLite's own
    arithmetic leaves it (`index.first_transferred`)."""
    return f"sum(({count}) >> {_LOW_BITS}) * {1 << _LOW_BITS} + sum(({count}) & {_LOW_MASK})"


def _overflowed(error: OperationalError) -> bool:
    return "integer overflow" in str(error.orig)


class UnitsSelect:
    """A select whose last column is the sum of `count` (an integer expression, never
    negative), built by `build` from its sum columns; `rows` gives that sum exactly."""

    def __init__(self, build: Build, count: Any) -> None:
        self._build = build
        self._count = count
        self.plain = build([func.sum(count)])
        self._split: Any = None

    def rows(
        self, connection: Connection, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows, each with its sum last as an exact int (0 where nothing counted)."""
        try:
            found = connection.execute(self.plain, dict(params or {})).all()
        except OperationalError as error:  # SQLite: the statement alone failed
            if not _overflowed(error):
                raise
        else:
            return [(*row[:-1], int(row[-1] or 0)) for row in found]
        if self._split is None:
            self._split = self._build(_halves(self._count))
        split = connection.execute(self._split, dict(params or {}))
        return [(*row[:-2], (int(row[-2] or 0) << _LOW_BITS) + int(row[-1] or 0)) for row in split]

    def total(self, connection: Connection, params: Mapping[str, Any] | None = None) -> int:
        """The one sum of an aggregate without GROUP BY."""
        total: int = self.rows(connection, params)[0][-1]
        return total
