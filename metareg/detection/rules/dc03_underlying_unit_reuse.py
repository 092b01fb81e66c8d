"""DC03 underlying-unit-reuse (critical). Kind: units. Alert scope: underlying registry.

RULES.md: "two distinct `Issuance` actions that do not overlap each other rest on
overlapping underlying units: same `underlying_registry_id`, and unit ranges that
intersect once each programme's serial is parsed (exact string equality where a
serial cannot be parsed)". The alert's range and key are those of the later-issued
block (by `action_date`, then identity).

Decisions: an issuance without `first_unit_id` rests on nothing we can compare and
is not judged; a missing `last_unit_id` means a single unit. Where either side's
serials cannot be parsed, the two conflict when their (first, last) unit id strings
are equal. The set-based pass sweeps the parsed ranges of each (underlying registry,
batch prefix) in order, never all pairs.

A re-issuance, not a reappearance. Two distinct issuances are the same programme
units seen twice through the same chain, and do not conflict, when they are one
issuance reported twice: the same `action_id` (the originating registry's own id of
the issuance), the same chain (`cooperative_approach_id`, originating
`party_registry_id`, `first_transferring_party_id`, `vintage`) and exactly the same
underlying units (registry and first/last unit ids). That is what loading the same
programme export twice as ITMO issuances, or a Party registry and a CAD Trust node
both reporting one issuance, produces, whatever ITMO serials each reporter numbers it
with. Anything else resting on shared units is a re-issuance: another action id (a
second issuance of the units, even in the same registry), another chain (another
approach, originating registry, first transferring Party or vintage), or units that
only partly coincide.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator

from metareg.detection.rules.kinds import UnitsRule, unit_scope
from metareg.detection.rules.terms import BlockRecord, make_finding, overlap
from metareg.findings import Finding
from metareg.index.unitrange import parse_units
from metareg.records.serials import UnitRange

CODE = "DC03"
ISSUANCES = frozenset({"Issuance"})


def judged(record: BlockRecord) -> bool:
    return (
        record.action_type in ISSUANCES
        and bool(record.underlying_registry_id)
        and bool(record.first_unit_id)
    )


def unit_range(record: BlockRecord) -> UnitRange | None:
    """The parsed underlying units of an issuance, or None when they cannot be parsed
    (the index stores the same for each issuance: metareg.index.unitrange)."""
    assert record.first_unit_id is not None
    return parse_units(record.first_unit_id, record.last_unit_id, record.underlying_registry_id)


def unit_text(record: BlockRecord) -> tuple[str, str]:
    return (record.first_unit_id or "", record.last_unit_id or record.first_unit_id or "")


def reappearance(a: BlockRecord, b: BlockRecord) -> bool:
    """The same issuance seen twice through the same chain (the module's docstring)."""
    return (
        a.uid == b.uid
        and a.cooperative_approach_id == b.cooperative_approach_id
        and a.party_registry_id == b.party_registry_id
        and a.first_transferring_party_id == b.first_transferring_party_id
        and a.vintage == b.vintage
        and a.underlying_registry_id == b.underlying_registry_id
        and unit_text(a) == unit_text(b)
    )


def conflicts(a: BlockRecord, b: BlockRecord, ra: UnitRange | None, rb: UnitRange | None) -> bool:
    """The pure predicate, given each issuance's parsed range (None: unparseable)."""
    if a.identity == b.identity or not (judged(a) and judged(b)):
        return False
    if a.underlying_registry_id != b.underlying_registry_id or overlap(a, b):
        return False
    if reappearance(a, b):
        return False
    if ra is None or rb is None:
        return unit_text(a) == unit_text(b)
    return ra.prefix == rb.prefix and ra.first <= rb.last and rb.first <= ra.last


def later_issued(a: BlockRecord, b: BlockRecord) -> BlockRecord:
    return max(a, b, key=lambda r: (r.action_date or "", r.identity))


def finding(a: BlockRecord, b: BlockRecord) -> Finding:
    later = later_issued(a, b)
    first, second = sorted((a, b), key=lambda r: r.identity)
    return make_finding(
        CODE,
        f"{a.label()} and {b.label()} rest on the same {a.underlying_registry_id} units "
        f"({a.first_unit_id} .. {a.last_unit_id or a.first_unit_id} and "
        f"{b.first_unit_id} .. {b.last_unit_id or b.first_unit_id})",
        (first.identity, second.identity),
        block=later,
        scope=unit_scope(a.underlying_registry_id or ""),
    )


def check_issuances(issuances: Iterable[BlockRecord]) -> Iterator[Finding]:
    """Every DC03 conflict among issuances (set-based: sort and sweep per batch)."""
    parsed: dict[tuple[str, str], list[tuple[int, int, BlockRecord]]] = defaultdict(list)
    by_text: dict[tuple[str, str, str], list[tuple[BlockRecord, bool]]] = defaultdict(list)
    ranges: dict[tuple[str, str, str], UnitRange | None] = {}
    for record in issuances:
        if not judged(record):
            continue
        underlying = record.underlying_registry_id or ""
        units = unit_range(record)
        ranges[record.identity] = units
        by_text[(underlying, *unit_text(record))].append((record, units is None))
        if units is not None:
            parsed[(underlying, units.prefix)].append((units.first, units.last, record))
    seen: set[tuple[tuple[str, str, str], tuple[str, str, str]]] = set()

    def emit(a: BlockRecord, b: BlockRecord) -> Iterator[Finding]:
        key = (a.identity, b.identity) if a.identity < b.identity else (b.identity, a.identity)
        if key in seen:
            return
        if conflicts(a, b, ranges[a.identity], ranges[b.identity]):
            seen.add(key)
            yield finding(a, b)

    for blocks in parsed.values():
        blocks.sort(key=lambda item: (item[0], item[1], item[2].identity))
        active: list[tuple[int, int, BlockRecord]] = []  # heap of (last unit, order, record)
        for order, (first, last, record) in enumerate(blocks):
            while active and active[0][0] < first:
                heapq.heappop(active)
            for _, _, other in active:
                yield from emit(other, record)
            heapq.heappush(active, (last, order, record))
    for group in by_text.values():
        if len(group) < 2:
            continue
        for i, (a, a_unparsed) in enumerate(group):
            for b, b_unparsed in group[i + 1 :]:
                if a_unparsed or b_unparsed:
                    yield from emit(a, b)


RULE = UnitsRule(code=CODE, judged=judged, check_issuances=check_issuances, actions=ISSUANCES)
