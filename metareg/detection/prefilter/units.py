"""DC03's candidates without parsing every issuance: screen on the stored unit ranges;
the units pass then judges the few candidates with the rule.

`dc03.check_issuances` parses every issuance's serials on every check. The index
already holds each judged issuance's parsed range (metareg.index.unitrange), so
this pass reads only (id, underlying registry, prefix, first, last) of the parsed rows,
in (registry, prefix, first) order from their partial index, and keeps a row only when
its range intersects another row's of the same (registry, prefix): within a group
sorted by `first`, row i meets an earlier row iff `first_i <= max(last_j, j < i)`, and
a later one iff the next row starts at or before `last_i`. numpy does both over the
whole result at once.

Rows with unit ids but no stored range come from a second, small partial index:
- serials that cannot be parsed conflict by exact (first, last) text equality, and
  equal text parses alike, so their partners are unparsable rows too: every such row
  that shares its text with another row of its underlying registry is a candidate;
- a judged row that parses although nothing is stored (a number that does not fit
  64 bits, or a row written without its derived columns) could meet any parsed row of
  its underlying registry: that whole registry goes to the exact check.

Every record of every conflicting pair is thus a candidate, and the rule's
`check_issuances` on the candidates finds every conflict among them: the same
findings as over all issuances (possibly in another order). `COVERED` are the units
rules this screen is a necessary condition of.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sqlalchemy import Connection

from metareg.db.tables.index import UNIT_RANGE_WHERE, UNIT_UNPARSED_WHERE
from metareg.detection.rules import dc03_underlying_unit_reuse as dc03
from metareg.index.unitrange import parse_units

COVERED = (dc03.RULE,)
# Hand-written and run on the driver's own cursor: 225k rows at 1M blocks, where
# SQLAlchemy's row handling alone would cost twice the read. Each WHERE spells out its
# partial index's condition: SQLite uses a partial index only when the query's WHERE
# contains the condition's terms.
_PARSED_SQL = (
    "SELECT id, underlying_registry_id, underlying_prefix, underlying_first, underlying_last "
    f"FROM actions WHERE {UNIT_RANGE_WHERE}{{only}} "
    "ORDER BY underlying_registry_id, underlying_prefix, underlying_first"
)
_UNPARSED_SQL = (
    "SELECT id, action_type, underlying_registry_id, first_unit_id, last_unit_id "
    f"FROM actions WHERE {UNIT_UNPARSED_WHERE}{{only}}"
)


def _fetch(connection: Connection, sql: str, underlying: list[str] | None) -> list[Any]:
    """The rows of `sql` (its `{only}` filled in), on the connection's transaction."""
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    only = ""
    if underlying is not None:
        only = f" AND underlying_registry_id IN ({', '.join([marker] * len(underlying))})"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql.format(only=only), tuple(underlying or ()))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _overlapping(rows: list[Any]) -> list[int]:
    """Ids of the parsed rows whose range intersects another's of the same (registry,
    prefix); `rows` are (id, registry, prefix, first, last) in (registry, prefix,
    first) order."""
    n = len(rows)
    if n < 2:
        return []
    table = np.array(rows, dtype=object)  # one C loop; far cheaper than zip(*rows)
    registry, prefix = table[:, 1], table[:, 2]
    first = table[:, 3].astype(np.int64)
    last = table[:, 4].astype(np.int64)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (registry[1:] != registry[:-1]) | (prefix[1:] != prefix[:-1])
    same = ~new_group[1:]  # row i + 1 is in row i's group
    if bool(np.any(same & (first[1:] < first[:-1]))):
        # Not in the order asked for: the screen's reasoning would not hold.
        raise RuntimeError("parsed unit ranges did not come back in index order")
    # A running max of `last` that restarts with each group: rank every first and last
    # together (ranks keep their order), then lift each group above the ones before.
    _, rank = np.unique(np.concatenate([first, last]), return_inverse=True)
    rank = rank.reshape(-1).astype(np.int64)
    lifted = (np.cumsum(new_group) - 1).astype(np.int64) * (int(rank.max()) + 1)
    running = np.maximum.accumulate(lifted + rank[n:])
    meets = np.zeros(n, dtype=bool)
    # Row i meets an earlier row of its group: it starts within their running max.
    meets[1:] = same & (lifted[1:] + rank[1:n] <= running[:-1])
    # Row i meets a later row of its group: then the next one starts within it.
    meets[:-1] |= same & (first[1:] <= last[:-1])
    return [int(i) for i in table[meets, 0]]


def candidate_ids(
    connection: Connection, underlying: Iterable[str] | None = None
) -> tuple[list[int], set[str]]:
    """(ids of the candidate issuances, underlying registries that need every issuance
    judged exactly)."""
    wanted = None if underlying is None else sorted(set(underlying))
    ids = _overlapping(_fetch(connection, _PARSED_SQL, wanted))
    by_text: dict[tuple[str, str, str], list[int]] = {}
    whole: set[str] = set()
    for row_id, action_type, registry, first_unit, last_unit in _fetch(
        connection, _UNPARSED_SQL, wanted
    ):
        if action_type not in dc03.ISSUANCES or not registry or not first_unit:
            continue  # not judged by DC03
        if parse_units(first_unit, last_unit, registry) is not None:
            whole.add(registry)
            continue
        by_text.setdefault((registry, first_unit, last_unit or first_unit), []).append(row_id)
    ids += [i for group in by_text.values() if len(group) > 1 for i in group]
    return ids, whole
