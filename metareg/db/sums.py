"""Sums of unit counts that are exact however large they grow.

A block holds up to 10**18 - 1 units (`records.identifiers.MAX_SERIAL`), so ten of
them already pass 2**63: SQLite's `sum()` of integers then raises "integer overflow"
(PostgreSQL's sum of bigint returns numeric and does not). A registry that reports such
blocks, by mistake or not, must not stop a check, a sync's reconciliation or an answer
of the API. So each count is summed in two halves, its high and its low 32 bits, and
the two sums are put together in Python: each half's sum fits in 64 bits for fewer than
2**31 rows of a group, and the total is an exact Python integer on both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, func, literal_column

_LOW_BITS = 32
_LOW_MASK = (1 << _LOW_BITS) - 1


def unit_sums(count: Any) -> tuple[Any, Any]:
    """The two SQL sums of an integer expression (`count`, never negative): select both
    and give them to `joined`."""
    grouped = count.self_group()  # constants written out: PostgreSQL shifts by an integer
    return (
        func.sum(grouped.op(">>", return_type=BigInteger())(literal_column(str(_LOW_BITS)))),
        func.sum(grouped.op("&", return_type=BigInteger())(literal_column(str(_LOW_MASK)))),
    )


def joined(high: Any, low: Any) -> int:
    """The exact total of the two sums `unit_sums` selects (0 where no row counted)."""
    return (int(high or 0) << _LOW_BITS) + int(low or 0)
