"""DC17 untraced-block (high). Kind: group. Alert scope: block range.

RULES.md: "a `First transfer`, `Transfer`, `Acquisition`, `Use`, `Cancellation` or
holding whose range is not wholly covered by `Issuance` actions that the registry
`party_registry_id` itself reports, when that registry is synced" (the Kyoto log's
"units improperly issued": a block moved, used or held that no issuance of its
originating registry covers).

Decisions where the spec is silent:
- "Wholly covered" is by the issuances together: two issuances [1-5] and [6-10]
  cover [3-8] (touching issuances leave no serial uncovered); an issuance only counts
  when it overlaps the record (same cooperative approach and originating registry,
  RULES.md "overlap"), whatever its date, vintage or first transferring Party (a
  disagreement on those is DC02's).
- Only the originating registry's own issuances count: an `Issuance` that another
  registry reports for the block traces nothing.
- "Synced" is RULES.md's: the originating registry has completed a sync (or a file
  ingest) without error, or has records in the index (`CheckContext.synced_registries`).
- A `Voluntary cancellation` and an `Authorization` action are not judged (the rule
  lists the action types it judges).
- One alert per untraced record, over the record's range; the message names the first
  serials no issuance covers.

Why a group rule: whether a record is covered depends on every issuance overlapping
it, so the sweep shows it the records of its group and it judges when the group ends.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from metareg.detection.rules.kinds import CheckContext, GroupRule
from metareg.detection.rules.terms import HOLDING, BlockRecord, RecordKind, make_finding
from metareg.findings import Finding

CODE = "DC17"
ISSUANCE = "Issuance"
JUDGED: frozenset[RecordKind] = frozenset(
    {"First transfer", "Transfer", "Acquisition", "Use", "Cancellation", HOLDING}
)


def traces(issuance: BlockRecord) -> bool:
    """Whether `issuance` can trace a block: an issuance its originating registry
    itself reports."""
    return issuance.action_type == ISSUANCE and issuance.registry_id == issuance.party_registry_id


def judged(record: BlockRecord, context: CheckContext) -> bool:
    """A record DC17 judges: of a judged kind, its originating registry synced."""
    return record.action_type in JUDGED and record.party_registry_id in context.synced_registries


def merged(issuances: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint runs of serials the issuances cover (touching ones joined)."""
    runs: list[tuple[int, int]] = []
    for first, last in sorted(issuances):
        if runs and first <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], max(runs[-1][1], last))
        else:
            runs.append((first, last))
    return runs


def first_untraced(record: BlockRecord, runs: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The first serials of `record` that no run covers, or None if it is covered."""
    at = bisect.bisect_right(runs, (record.first_id, float("inf"))) - 1
    if at >= 0 and runs[at][1] >= record.last_id:
        return None
    if at < 0 or runs[at][1] < record.first_id:
        start = record.first_id
        nxt = at + 1
    else:
        start = runs[at][1] + 1
        nxt = at + 1
    end = record.last_id if nxt >= len(runs) else min(record.last_id, runs[nxt][0] - 1)
    return start, end


def finding(record: BlockRecord, gap: tuple[int, int]) -> Finding:
    return make_finding(
        CODE,
        f"{record.label()}: serials {gap[0]}-{gap[1]} were never issued by "
        f"{record.party_registry_id} (no Issuance it reports covers them)",
        (record.identity,),
        block=record,
    )


@dataclass
class Untraced:
    """DC17 over one group of overlapping records: the judged records, and the
    issuances that trace them, kept until the group ends."""

    context: CheckContext
    records: list[BlockRecord] = field(default_factory=list)
    issuances: list[tuple[int, int]] = field(default_factory=list)

    def see_record(self, record: BlockRecord) -> None:
        if traces(record):
            self.issuances.append((record.first_id, record.last_id))
        elif judged(record, self.context):
            self.records.append(record)

    def see_pair(self, a: BlockRecord, b: BlockRecord) -> None:
        pass  # DC17 reads the records of the group

    def findings(self) -> Iterator[Finding]:
        if not self.records:
            return
        runs = merged(self.issuances)
        for record in self.records:
            gap = first_untraced(record, runs)
            if gap is not None:
                yield finding(record, gap)


RULE = GroupRule(
    code=CODE,
    start=Untraced,
    record_kinds=JUDGED | {ISSUANCE},
    originating_synced=True,
)
