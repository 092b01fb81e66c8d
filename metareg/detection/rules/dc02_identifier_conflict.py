"""DC02 identifier-conflict (critical). Kind: pair (any two records). Alert scope:
block range.

RULES.md: "two records (any kind) overlap but disagree on
`first_transferring_party_id`, `vintage`, `metric` or `mitigation_type` (where both
give it)".

DOMAIN.md: a serial range is unique within (cooperative approach, originating
registry), so every other part of the identifier must agree wherever two records
cover the same serial. `metric` always has a value (it defaults to GHG);
`mitigation_type` is compared only when both records give one. Any two records can
conflict, so the sweep shows this rule every overlapping pair that differs on one of
the compared fields (the rest agree on everything this rule reads).
"""

from __future__ import annotations

from metareg.detection.rules.kinds import PairRule
from metareg.detection.rules.terms import BlockRecord, overlap, pair_finding
from metareg.findings import Finding

CODE = "DC02"
COMPARED = ("first_transferring_party_id", "vintage", "metric", "mitigation_type")


def disagreements(a: BlockRecord, b: BlockRecord) -> list[str]:
    """The identifier fields on which two records disagree (both giving a value)."""
    return [
        name
        for name in COMPARED
        if (x := getattr(a, name)) is not None and (y := getattr(b, name)) is not None and x != y
    ]


def check(a: BlockRecord, b: BlockRecord) -> Finding | None:
    if a.identity == b.identity or not overlap(a, b):
        return None
    fields = disagreements(a, b)
    if not fields:
        return None
    detail = ", ".join(f"{name} {getattr(a, name)!r} vs {getattr(b, name)!r}" for name in fields)
    return pair_finding(CODE, a, b, f"{a.label()} and {b.label()} disagree: {detail}")


RULE = PairRule(code=CODE, check=check, kinds=None, differ_on=COMPARED)
