"""DC10 unmatched-transfer (warning). Kind: group (waits for a counterpart). Alert
scope: block range.

RULES.md: "a `First transfer` or `Transfer` to Party B, more than the grace period
old, with no `Acquisition` of an overlapping range from the transferring Party
reported by a synced registry of Party B (only raised when that Party has a synced
registry)".

Decisions: the transferring Party is the Party of the registry that reported the
transfer (RULES.md: a registry belongs to the Party whose code begins its id);
"more than the grace period old" means `action_date < now - grace` (strictly older);
any overlapping acquisition matches (a partial acquisition is a match: the parties
agree the transfer happened, DC02 and holdings catch quantity disputes).
"""

from __future__ import annotations

from functools import partial

from metareg.detection.rules.kinds import (
    Awaited,
    CheckContext,
    GroupRule,
    Unmatched,
    both_orders,
)
from metareg.detection.rules.terms import (
    ACQUISITION,
    TRANSFERS,
    BlockRecord,
    make_finding,
    overlap,
    party_of,
)
from metareg.findings import Finding

CODE = "DC10"


def matches(transfer: BlockRecord, acquisition: BlockRecord) -> bool:
    """Whether `acquisition` is the receiving side of `transfer` (shared with DC11)."""
    return (
        transfer.action_type in TRANSFERS
        and acquisition.action_type == ACQUISITION
        and transfer.acquiring_party_id == party_of(acquisition.registry_id)
        and acquisition.transferring_party_id == party_of(transfer.registry_id)
        and overlap(transfer, acquisition)
    )


def waiting(transfer: BlockRecord, context: CheckContext) -> bool:
    """A transfer old enough to expect its acquisition, to a Party that reports to us."""
    return (
        transfer.action_type in TRANSFERS
        and transfer.acquiring_party_id is not None
        and transfer.acquiring_party_id in context.synced_parties
        and (transfer.action_date or "9999") < context.cutoff.isoformat()
    )


def finding(transfer: BlockRecord, context: CheckContext) -> Finding:
    return make_finding(
        CODE,
        f"{transfer.label()} to {transfer.acquiring_party_id} on {transfer.action_date} has "
        f"no matching acquisition reported by a registry of {transfer.acquiring_party_id} "
        f"after {context.grace_days} days",
        (transfer.identity,),
        block=transfer,
    )


RULE = GroupRule(
    code=CODE,
    start=partial(Unmatched, kinds=TRANSFERS, waiting=waiting, matches=matches, finding=finding),
    record_kinds=TRANSFERS,
    pair_kinds=both_orders(TRANSFERS, [ACQUISITION]),
    awaited=Awaited(TRANSFERS, "acquiring_party_id"),
)
