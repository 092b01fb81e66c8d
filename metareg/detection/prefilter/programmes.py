"""The programme rules' candidates: only the statuses one of them can speak on.

Each programme rule declares `narrows`, a necessary condition on the statuses that can
matter to it (DC15: retired or cancelled; DC16: labelled not authorized); the read
keeps the statuses meeting one rule's condition, in SQL. It never decides: the rules
judge every (issuance, status) pair the pass forms from what is kept, which gives the
same findings as judging every status (tests/detection/test_programmes.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from metareg.detection.read import programmes as read
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
