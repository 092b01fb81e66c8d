"""DC04 multiple-holders (critical). Kind: group. Alert scope: block range.

RULES.md: "the current holdings of two registries, or of two accounts in one
registry, overlap, and no transfer of the overlapping range out of the holder with
the older snapshot, dated after that snapshot's `as_of`, explains it".

Decisions where the spec is silent:
- A "transfer out of the holder" is a `First transfer` or `Transfer` reported by the
  older holding's own registry, dated strictly after that holding's `as_of`.
- Several such transfers may explain the overlap together: what counts is that their
  blocks jointly cover the whole overlapping range; a partial transfer leaves the
  rest unexplained and the alert stands.
- Holdings with the same `as_of` have no "older snapshot": nothing can explain the
  overlap (two accounts of one registry always share their snapshot date).
- Every account type counts: a unit in a cancellation account of one registry and a
  holding account of another is held twice.

Why a group rule: whether a pair of holdings conflicts depends on every transfer
overlapping the older one, so the sweep shows this rule the holding pairs and the
(transfer, holding) pairs of a group, and it judges when the group ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from metareg.detection.rules.kinds import CheckContext, GroupRule, both_orders
from metareg.detection.rules.terms import (
    HOLDING,
    TRANSFERS,
    BlockRecord,
    ordered,
    overlap,
    pair_finding,
)
from metareg.findings import Finding, Identity

CODE = "DC04"


def is_holding(record: BlockRecord) -> bool:
    return record.record_type == "holding"


def holders_conflict(a: BlockRecord, b: BlockRecord) -> bool:
    """Two current holdings of different registries or accounts that overlap."""
    return (
        is_holding(a)
        and is_holding(b)
        and a.identity != b.identity
        and (a.registry_id != b.registry_id or a.account_id != b.account_id)
        and overlap(a, b)
    )


def older_of(a: BlockRecord, b: BlockRecord) -> BlockRecord | None:
    """The holding with the strictly older snapshot, or None when both share a date."""
    if a.as_of == b.as_of:
        return None
    return a if (a.as_of or "") < (b.as_of or "") else b


def transfers_out(transfer: BlockRecord, holder: BlockRecord) -> bool:
    """Whether `transfer` moves part of `holder`'s block out of its registry after the
    holder's snapshot."""
    return (
        transfer.action_type in TRANSFERS
        and transfer.registry_id == holder.registry_id
        and (transfer.action_date or "") > (holder.as_of or "")
        and overlap(transfer, holder)
    )


def explained(a: BlockRecord, b: BlockRecord, transfers: Iterable[BlockRecord]) -> bool:
    """Whether transfers out of the older holder cover the whole overlapping range."""
    older = older_of(a, b)
    if older is None:
        return False
    first, last = max(a.first_id, b.first_id), min(a.last_id, b.last_id)
    pieces = sorted(
        (max(t.first_id, first), min(t.last_id, last))
        for t in transfers
        if transfers_out(t, older) and t.first_id <= last and first <= t.last_id
    )
    reached = first - 1
    for start, end in pieces:
        if start > reached + 1:
            return False
        reached = max(reached, end)
    return reached >= last


def check(a: BlockRecord, b: BlockRecord, transfers: Iterable[BlockRecord] = ()) -> Finding | None:
    if not holders_conflict(a, b) or explained(a, b, transfers):
        return None
    return pair_finding(
        CODE,
        a,
        b,
        f"serials {max(a.first_id, b.first_id)}-{min(a.last_id, b.last_id)} are held by "
        f"{a.registry_id} account {a.account_id} (as of {a.as_of}) and by {b.registry_id} "
        f"account {b.account_id} (as of {b.as_of}), and no transfer out of the older "
        "holder explains it",
    )


@dataclass
class HeldTwice:
    """DC04 over one group: the conflicting holding pairs, and the transfers out of
    each holding, kept until every pair of the group has been seen."""

    pairs: list[tuple[BlockRecord, BlockRecord]] = field(default_factory=list)
    transfers_from: dict[Identity, list[BlockRecord]] = field(default_factory=dict)

    def see_record(self, record: BlockRecord) -> None:
        pass  # DC04 reads pairs only

    def see_pair(self, a: BlockRecord, b: BlockRecord) -> None:
        if is_holding(a) and is_holding(b):
            if holders_conflict(a, b):
                self.pairs.append(ordered(a, b))
            return
        transfer, holding = (b, a) if is_holding(a) else (a, b)
        if transfers_out(transfer, holding):
            self.transfers_from.setdefault(holding.identity, []).append(transfer)

    def findings(self) -> Iterator[Finding]:
        for a, b in self.pairs:
            older = older_of(a, b)
            transfers = self.transfers_from.get(older.identity, []) if older is not None else []
            finding = check(a, b, transfers)
            if finding is not None:
                yield finding


def _start(context: CheckContext) -> HeldTwice:
    return HeldTwice()


RULE = GroupRule(
    code=CODE,
    start=_start,
    pair_kinds=both_orders([HOLDING], [HOLDING, *TRANSFERS]),
)
