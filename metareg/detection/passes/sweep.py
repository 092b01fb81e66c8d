"""The set-based pass over blocks: sort and sweep per (ca, originating registry).

Blocks arrive in `first_id` order. The active set holds the blocks whose range
reaches the current block's start (a heap by `last_id`, so blocks that ended are
dropped in O(log n)); every active block overlaps the new one, so each overlapping
pair is met exactly once and no pair that does not overlap is ever looked at. The
cost is O(n log n + k) for n blocks and k overlapping pairs, never all pairs.

The block-scope rules are reached by their kind (`rules.kinds`): record rules see
each block once; pair rules see the overlapping pairs whose record kinds they
declare (a rule on any pair, DC02, only those that differ on the fields it names);
group rules (DC04, DC10, DC11) see the records and pairs they declare and judge when
the group ends. The dispatch tables are built from those declarations, so the hot
loop costs a dictionary look-up per pair and calls a rule only where it may speak.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any

from metareg.detection.rules import of_kind
from metareg.detection.rules.kinds import (
    CheckContext,
    GroupJudgement,
    GroupRule,
    PairRule,
    RecordRule,
)
from metareg.detection.rules.terms import BlockRecord, RecordKind, ordered
from metareg.findings import Finding

PairHandler = Callable[[BlockRecord, BlockRecord], Finding | None]
KindPair = tuple[RecordKind, RecordKind]

RECORD_CHECKS = tuple(rule.check for rule in of_kind(RecordRule))
GROUP_RULES = of_kind(GroupRule)
# The rules on any pair, and one key for all of them: where two records' keys are
# equal none of them can speak (a rule naming no field to differ on sees every pair:
# two distinct records always differ on their identity).
ANY_PAIR = tuple(rule for rule in of_kind(PairRule) if rule.kinds is None)
ANY_PAIR_CHECKS = tuple(rule.check for rule in ANY_PAIR)
_DIFFER_ON = sorted(
    {
        name
        for rule in ANY_PAIR
        for name in (rule.differ_on or ("registry_id", "record_type", "uid"))
    }
)
differ_key: Callable[[BlockRecord], Any] = (
    attrgetter(*_DIFFER_ON) if _DIFFER_ON else lambda record: ()
)


def _in_order(check: Callable[[BlockRecord, BlockRecord], Finding | None]) -> PairHandler:
    """A pair rule's check, given the pair in one order (`ordered`)."""
    return lambda a, b: check(*ordered(a, b))


def _pair_handlers(judgements: list[GroupJudgement]) -> dict[KindPair, tuple[PairHandler, ...]]:
    """(record kind, record kind) -> the pair rules' checks declaring it, then the
    group judgements' `see_pair` (which find nothing until the group ends)."""
    table: dict[KindPair, list[PairHandler]] = {}
    for pair_rule in of_kind(PairRule):
        for kinds in pair_rule.kinds or ():
            table.setdefault(kinds, []).append(_in_order(pair_rule.check))
    for group_rule, judgement in zip(GROUP_RULES, judgements, strict=True):
        for kinds in group_rule.pair_kinds:
            table.setdefault(kinds, []).append(judgement.see_pair)
    return {kinds: tuple(handlers) for kinds, handlers in table.items()}


def sweep_group(
    records: Iterable[BlockRecord],
    context: CheckContext,
    per_action: Callable[[BlockRecord], list[Finding]] | None = None,
) -> Iterator[Finding]:
    """Every block-rule finding among the blocks of one (ca, originating registry),
    given in `first_id` order; `per_action` (the exhaustive check's authorization
    rules) is given each action once."""
    judgements = [rule.start(context) for rule in GROUP_RULES]
    on_record: dict[RecordKind, list[Callable[[BlockRecord], None]]] = {}
    for rule, judgement in zip(GROUP_RULES, judgements, strict=True):
        for kind in rule.record_kinds:
            on_record.setdefault(kind, []).append(judgement.see_record)
    on_pair, any_pair, key_of, no_calls = (
        _pair_handlers(judgements),
        ANY_PAIR_CHECKS,
        differ_key,
        (),
    )
    # A heap of (last_id, arrival order, block, the block's `differ_key`).
    active: list[tuple[int, int, BlockRecord, Any]] = []
    for order, record in enumerate(records):
        start = record.first_id
        while active and active[0][0] < start:
            heapq.heappop(active)
        for check_record in RECORD_CHECKS:
            finding = check_record(record)
            if finding is not None:
                yield finding
        if per_action is not None and record.record_type == "action":
            yield from per_action(record)
        kind = record.action_type
        for see_record in on_record.get(kind, no_calls):
            see_record(record)
        key = key_of(record)
        if active:
            found: list[Finding] = []
            for _, _, other, other_key in active:
                if other_key != key:
                    for check in any_pair:
                        finding = check(*ordered(other, record))
                        if finding is not None:
                            found.append(finding)
                for handle in on_pair.get((other.action_type, kind), no_calls):
                    finding = handle(other, record)
                    if finding is not None:
                        found.append(finding)
            yield from found
        heapq.heappush(active, (record.last_id, order, record, key))
    for judgement in judgements:
        yield from judgement.findings()
