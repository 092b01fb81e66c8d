"""DC06 activity-after-use (critical). Kind: pair. Alert scope: block range.

RULES.md: "a `First transfer`, `Transfer` or `Acquisition` dated after an overlapping
use or cancellation, or a current holding in a `holding` or `government-holding`
account, with `as_of` after the use, that overlaps a used or cancelled range".

Decisions: "use or cancellation" is the same set as DC05 (voluntary cancellations
included); "after" is strictly later (an action on the day of the use is not
flagged, since registries do not report the time of day); a holding in a
cancellation or retirement account is where used units belong, so it is never
flagged.
"""

from __future__ import annotations

from metareg.detection.rules.dc05_double_use import USES, is_use
from metareg.detection.rules.kinds import PairRule, both_orders
from metareg.detection.rules.terms import (
    ACQUISITION,
    HOLDING,
    TRANSFERS,
    BlockRecord,
    overlap,
    pair_finding,
)
from metareg.findings import Finding

CODE = "DC06"
MOVEMENTS = TRANSFERS | {ACQUISITION}
ACTIVE_ACCOUNTS = frozenset({"holding", "government-holding"})


def active_after(use: BlockRecord, other: BlockRecord) -> bool:
    """Whether `other` is activity on the used range after `use`."""
    if not is_use(use) or use.identity == other.identity or not overlap(use, other):
        return False
    assert use.action_date is not None
    if other.record_type == "holding":
        return other.account_type in ACTIVE_ACCOUNTS and (other.as_of or "") > use.action_date
    return other.action_type in MOVEMENTS and (other.action_date or "") > use.action_date


def check(a: BlockRecord, b: BlockRecord) -> Finding | None:
    for use, other in ((a, b), (b, a)):
        if active_after(use, other):
            when = other.as_of if other.record_type == "holding" else other.action_date
            return pair_finding(
                CODE,
                a,
                b,
                f"{other.label()} ({when}) is activity on serials "
                f"{max(a.first_id, b.first_id)}-{min(a.last_id, b.last_id)} after "
                f"{use.label()} used or cancelled them on {use.action_date}",
            )
    return None


RULE = PairRule(
    code=CODE,
    check=check,
    kinds=both_orders(USES, [*MOVEMENTS, HOLDING]),
    passed="No use or cancellation of these units precedes this one.",
)
