"""DC11 unmatched-acquisition (warning). Kind: group (waits for a counterpart). Alert
scope: block range.

RULES.md: "an `Acquisition` from Party A, more than the grace period old, with no
`First transfer` or `Transfer` of an overlapping range to the acquiring Party
reported by a synced registry of Party A (only raised when that Party has a synced
registry)".

The acquiring Party is the Party of the registry that reported the acquisition; the
match is DC10's `matches` seen from the other side, so the two rules never disagree
on what a matching pair is.
"""

from __future__ import annotations

from functools import partial

from metareg.detection.rules import dc10_unmatched_transfer as dc10
from metareg.detection.rules.kinds import (
    Awaited,
    CheckContext,
    GroupRule,
    Unmatched,
    both_orders,
)
from metareg.detection.rules.terms import ACQUISITION, TRANSFERS, BlockRecord, make_finding
from metareg.findings import Finding

CODE = "DC11"
ACQUISITIONS = frozenset({ACQUISITION})


def matches(acquisition: BlockRecord, transfer: BlockRecord) -> bool:
    return dc10.matches(transfer, acquisition)


def waiting(acquisition: BlockRecord, context: CheckContext) -> bool:
    return (
        acquisition.action_type == ACQUISITION
        and acquisition.transferring_party_id is not None
        and acquisition.transferring_party_id in context.synced_parties
        and (acquisition.action_date or "9999") < context.cutoff.isoformat()
    )


def finding(acquisition: BlockRecord, context: CheckContext) -> Finding:
    return make_finding(
        CODE,
        f"{acquisition.label()} from {acquisition.transferring_party_id} on "
        f"{acquisition.action_date} has no matching transfer reported by a registry of "
        f"{acquisition.transferring_party_id} after {context.grace_days} days",
        (acquisition.identity,),
        block=acquisition,
    )


RULE = GroupRule(
    code=CODE,
    start=partial(Unmatched, kinds=ACQUISITIONS, waiting=waiting, matches=matches, finding=finding),
    record_kinds=ACQUISITIONS,
    pair_kinds=both_orders(ACQUISITIONS, TRANSFERS),
    awaited=Awaited(ACQUISITIONS, "transferring_party_id"),
)
