"""The programme rules' candidates: only the statuses one of them can speak on.

Each programme rule declares `narrows`, a necessary condition on the statuses that can
matter to it (DC15: retired or cancelled for another purpose; DC16: labelled not
authorized); the pass reads only the statuses meeting one rule's condition, in SQL. It
never decides: the rules judge every (issuance, status) pair the pass forms from what
is kept, which gives the same findings as judging every status
(tests/detection/test_programmes.py).
"""

from __future__ import annotations

from metareg.detection.rules import of_kind
from metareg.detection.rules.kinds import ProgrammeRule

RULES = of_kind(ProgrammeRule)
# The rules with a condition here (a rule without one sees every status).
COVERED = tuple(rule for rule in RULES if rule.narrows)

Narrows = tuple[tuple[tuple[str, frozenset[str]], ...], ...]


def narrows() -> Narrows | None:
    """The conditions one of which a status must meet to matter (each: every column
    holds one of its values), or None when a rule without one sees every status."""
    if len(COVERED) < len(RULES):
        return None
    return tuple(rule.narrows for rule in COVERED)
