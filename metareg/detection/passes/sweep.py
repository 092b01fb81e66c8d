"""The set-based pass over blocks: sort and sweep per (ca, originating registry).

Blocks arrive in `first_id` order. The active set holds the blocks whose range
reaches the current block's start (a heap by `last_id`, so blocks that ended are
dropped in O(log n)); every active block overlaps the new one, so each overlapping
pair is met exactly once and no pair that does not overlap is ever looked at. The
cost is O(n log n + k) for n blocks and k overlapping pairs, never all pairs.

Each pair is handed to the rules it can concern (by record kind and action type);
per-record rules (DC12) see each block once; DC04 and DC10/DC11 need to know every
partner of a block before judging it, so they are judged when the group ends.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from metareg.detection.rules import (
    dc01_double_issuance,
    dc02_identifier_conflict,
    dc04_multiple_holders,
    dc05_double_use,
    dc06_activity_after_use,
    dc10_unmatched_transfer,
    dc11_unmatched_acquisition,
    dc12_quantity_mismatch,
)
from metareg.detection.rules.terms import TRANSFER_TYPES, USE_TYPES, Rec
from metareg.findings import Finding, Identity


@dataclass(frozen=True)
class SweepContext:
    cutoff: date  # DC10/DC11: older than this is past the grace period
    grace_days: int
    synced_parties: frozenset[str]


@dataclass
class _Group:
    holding_pairs: list[tuple[Rec, Rec]] = field(default_factory=list)
    outgoing: dict[Identity, list[Rec]] = field(default_factory=dict)  # holding -> transfers
    matched: set[Identity] = field(default_factory=set)  # matched transfers/acquisitions
    unmatched_candidates: list[tuple[str, Rec]] = field(default_factory=list)


def _ordered(a: Rec, b: Rec) -> tuple[Rec, Rec]:
    """One order for a pair, so a finding's message does not depend on arrival order."""
    if (b.registry_id, b.record_type, b.uid) < (a.registry_id, a.record_type, a.uid):
        return b, a
    return a, b


def _pair(a: Rec, b: Rec, group: _Group, out: list[Finding]) -> None:
    """Every pair rule on two overlapping, distinct blocks; findings go to `out`.

    The hot loop of the full check: rules are reached by kind and action type, so
    the common pairs (an issuance and the transfers of its units) cost a few
    comparisons; pairs are put in one order only when a rule may speak.
    """
    # A cheap necessary condition first: most overlapping pairs agree on everything.
    if (
        a.vintage != b.vintage
        or a.first_transferring_party_id != b.first_transferring_party_id
        or a.metric != b.metric
        or a.mitigation_type != b.mitigation_type
    ):
        finding = dc02_identifier_conflict.check(*_ordered(a, b))
        if finding is not None:
            out.append(finding)
    type_a, type_b = a.action_type, b.action_type
    finding = None
    if type_a is not None and type_b is not None:
        if type_a == "Issuance" or type_b == "Issuance":
            # An issuance is neither a use nor a movement: only DC01 concerns it.
            if type_a == type_b:
                finding = dc01_double_issuance.check(*_ordered(a, b))
        elif type_a in USE_TYPES or type_b in USE_TYPES:
            if type_a in USE_TYPES and type_b in USE_TYPES:
                finding = dc05_double_use.check(*_ordered(a, b))
            else:
                finding = dc06_activity_after_use.check(*_ordered(a, b))
        elif (
            type_b == "Acquisition"
            and type_a in TRANSFER_TYPES
            and dc10_unmatched_transfer.matches(a, b)
        ) or (
            type_a == "Acquisition"
            and type_b in TRANSFER_TYPES
            and dc10_unmatched_transfer.matches(b, a)
        ):
            group.matched.add(a.identity)
            group.matched.add(b.identity)
    elif type_a is None and type_b is None:
        if dc04_multiple_holders.holders_conflict(a, b):
            group.holding_pairs.append(_ordered(a, b))
    else:
        action, holding = (a, b) if type_a is not None else (b, a)
        if action.action_type in USE_TYPES:
            finding = dc06_activity_after_use.check(*_ordered(a, b))
        elif action.action_type in TRANSFER_TYPES and dc04_multiple_holders.transfers_out(
            action, holding
        ):
            group.outgoing.setdefault(holding.identity, []).append(action)
    if finding is not None:
        out.append(finding)


def _finish(group: _Group, context: SweepContext) -> Iterator[Finding]:
    for a, b in group.holding_pairs:
        older = dc04_multiple_holders.older_of(a, b)
        transfers = group.outgoing.get(older.identity, []) if older is not None else []
        finding = dc04_multiple_holders.check(a, b, transfers)
        if finding is not None:
            yield finding
    for rule, record in group.unmatched_candidates:
        if record.identity in group.matched:
            continue
        if rule == "DC10":
            yield dc10_unmatched_transfer.finding(record, context.grace_days)
        else:
            yield dc11_unmatched_acquisition.finding(record, context.grace_days)


def sweep_group(
    records: Iterable[Rec],
    context: SweepContext,
    per_action: Callable[[Rec], list[Finding]] | None = None,
) -> Iterator[Finding]:
    """Every block-rule finding among the blocks of one (ca, originating registry),
    given in `first_id` order; `per_action` (the full check's inline authorization
    rules) is given each action once."""
    group = _Group()
    active: list[tuple[int, int, Rec]] = []  # heap of (last_id, arrival order, block)
    cutoff, synced = context.cutoff, context.synced_parties
    for order, record in enumerate(records):
        start = record.first_id
        while active and active[0][0] < start:
            heapq.heappop(active)
        finding = dc12_quantity_mismatch.check(record)
        if finding is not None:
            yield finding
        if per_action is not None and record.record_type == "action":
            yield from per_action(record)
        if dc10_unmatched_transfer.is_candidate(record, cutoff, synced):
            group.unmatched_candidates.append(("DC10", record))
        elif dc11_unmatched_acquisition.is_candidate(record, cutoff, synced):
            group.unmatched_candidates.append(("DC11", record))
        if active:
            found: list[Finding] = []
            for _, _, other in active:
                _pair(other, record, group, found)
            yield from found
        heapq.heappush(active, (record.last_id, order, record))
    yield from _finish(group, context)
