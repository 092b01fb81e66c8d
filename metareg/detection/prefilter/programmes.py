"""The programme rules' candidates: only the statuses one of them can speak on.

Each programme rule declares `narrows`, a necessary condition on the statuses that can
matter to it (DC15: retired or cancelled; DC16: labelled not authorized); the read
keeps the statuses meeting one rule's condition, in SQL. It never decides: the rules
judge every (issuance, status) pair the pass forms from what is kept, which gives the
same findings as judging every status (tests/detection/test_programmes.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from sqlalchemy import Connection

from metareg.detection.read import programmes as read
from metareg.detection.read.programmes import RestingRange
from metareg.detection.rules import of_kind
from metareg.detection.rules.kinds import ProgrammeRule
from metareg.detection.rules.programmes import UnitStatusRecord

RULES = of_kind(ProgrammeRule)
# The rules with a condition here (a rule without one sees every status).
COVERED = tuple(rule for rule in RULES if rule.narrows)


def statuses(
    connection: Connection, underlying: Iterable[str] | None = None
) -> list[UnitStatusRecord]:
    if len(COVERED) < len(RULES):
        return read.statuses(connection, underlying)
    return read.statuses(connection, underlying, [rule.narrows for rule in COVERED])


def screen(rows: list[RestingRange], statuses: Iterable[UnitStatusRecord]) -> list[int]:
    """The row ids of the issuances that may share a unit with one of the statuses (a
    necessary condition of `rules.programmes.ranges_meet`): a stored range meeting a
    status's range of its batch, or a text equal to a batch id, or no stored range at
    all (judged exactly by the pass). Per batch, with the statuses sorted by their first
    unit and the running maximum of their last: an issuance [f, l] meets one iff the
    maximum last among those starting at or before l reaches f."""
    parsed: dict[str, list[tuple[int, int]]] = defaultdict(list)
    texts: set[str] = set()
    for status in statuses:
        if status.unit_prefix is not None and status.unit_first is not None:
            parsed[status.unit_prefix].append((status.unit_first, status.unit_last or 0))
        else:
            texts.add(status.first_unit_id)
    keep: list[int] = []
    groups: dict[str, list[RestingRange]] = defaultdict(list)
    for row in rows:
        row_id, prefix, first, last, _text = row
        if prefix is None or first is None or last is None:
            keep.append(row_id)  # no stored range: the pass pairs it by its text
        elif prefix in texts:
            keep.append(row_id)
        else:
            groups[prefix].append(row)
    for prefix, members in groups.items():
        ranges = parsed.get(prefix)
        if not ranges:
            continue
        ranges.sort()
        firsts = np.fromiter((r[0] for r in ranges), dtype=np.int64, count=len(ranges))
        reach = np.maximum.accumulate(
            np.fromiter((r[1] for r in ranges), dtype=np.int64, count=len(ranges))
        )
        lows = np.fromiter((m[2] or 0 for m in members), dtype=np.int64, count=len(members))
        highs = np.fromiter((m[3] or 0 for m in members), dtype=np.int64, count=len(members))
        upto = np.searchsorted(firsts, highs, side="right") - 1
        meets = (upto >= 0) & (reach[np.maximum(upto, 0)] >= lows)
        keep += [members[n][0] for n in np.flatnonzero(meets)]
    return keep
