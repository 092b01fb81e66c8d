"""DC05 double-use (critical). Kind: pair. Alert scope: block range.

RULES.md: "two distinct `Use` / `Cancellation` / `Voluntary cancellation` actions
overlap".

`USES` is RULES.md's "use or cancellation" wherever a rule says it (DC06 too).
"""

from __future__ import annotations

from metareg.detection.rules.kinds import PairRule, both_orders
from metareg.detection.rules.terms import BlockRecord, overlap, pair_finding
from metareg.findings import Finding

CODE = "DC05"
USES = frozenset({"Use", "Cancellation", "Voluntary cancellation"})


def is_use(record: BlockRecord) -> bool:
    """A use or cancellation of any kind (voluntary ones included)."""
    return record.action_type in USES


def conflicts(a: BlockRecord, b: BlockRecord) -> bool:
    return is_use(a) and is_use(b) and a.identity != b.identity and overlap(a, b)


def check(a: BlockRecord, b: BlockRecord) -> Finding | None:
    if not conflicts(a, b):
        return None
    return pair_finding(
        CODE,
        a,
        b,
        f"serials {max(a.first_id, b.first_id)}-{min(a.last_id, b.last_id)} were used or "
        f"cancelled twice: {a.label()} on {a.action_date} and {b.label()} on {b.action_date}",
    )


RULE = PairRule(
    code=CODE,
    check=check,
    kinds=both_orders(USES, USES),
    passed="No other use or cancellation of these units is in the index.",
)
