"""The programme pass: DC15 and DC16 (and any `ProgrammeRule`) over the ITMO
issuances resting on programme units and the statuses the programmes report.

Per programme, the kept statuses are indexed by batch (parsed ranges, sorted by their
first unit, with the batch's longest span) and by text (batch ids); each resting
issuance is read once, with the range stored when it was written, and paired with
the statuses that can share a unit with it (a bisect into its batch, then the
batch-id texts). Each pair goes to every programme rule, which decides. Work grows
as (issuances + statuses) log statuses, plus the pairs found.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Connection

from metareg.detection.prefilter import programmes as prefilter
from metareg.detection.read import blocks as read_blocks
from metareg.detection.read import programmes as read
from metareg.detection.rules import of_kind
from metareg.detection.rules.kinds import ProgrammeRule
from metareg.detection.rules.programmes import (
    ProgrammeUnits,
    UnitStatusRecord,
    ranges_meet,
    resting,
    units_of,
)
from metareg.detection.rules.terms import BlockRecord
from metareg.findings import Finding

RULES = of_kind(ProgrammeRule)


class _Batches:
    """One programme's statuses, indexed for the pairing."""

    def __init__(self, statuses: Iterable[UnitStatusRecord]) -> None:
        ranges: dict[str, list[UnitStatusRecord]] = defaultdict(list)
        self.texts: dict[str, list[UnitStatusRecord]] = defaultdict(list)
        for status in statuses:
            if status.unit_prefix is not None:
                ranges[status.unit_prefix].append(status)
            else:
                self.texts[status.first_unit_id].append(status)
        self.ranges: dict[str, tuple[list[int], list[UnitStatusRecord], int]] = {}
        for prefix, found in ranges.items():
            found.sort(key=lambda s: (s.unit_first or 0, s.registry_id, s.uid))
            span = max((s.unit_last or 0) - (s.unit_first or 0) for s in found)
            self.ranges[prefix] = ([s.unit_first or 0 for s in found], found, span)

    def meeting(
        self, block: BlockRecord, prefix: str | None, first: int | None, last: int | None
    ) -> list[UnitStatusRecord]:
        """The statuses that may share a unit with the block (a superset the rules
        narrow: `units_meet` decides)."""
        found: list[UnitStatusRecord] = []
        text = block.first_unit_id or ""
        if prefix is not None and first is not None and last is not None:
            indexed = self.ranges.get(prefix)
            if indexed is not None:
                firsts, ordered, span = indexed
                low = bisect.bisect_left(firsts, first - span)
                high = bisect.bisect_right(firsts, last)
                found += [s for s in ordered[low:high] if (s.unit_last or 0) >= first]
            found += self.texts.get(prefix, [])
            if text != prefix:
                found += self.texts.get(text, [])
        else:
            found += self.texts.get(text, [])
            indexed = self.ranges.get(text)
            if indexed is not None:
                found += indexed[1]
        return found


def _judge(connection: Connection, statuses: list[UnitStatusRecord]) -> list[Finding]:
    by_programme: dict[str, list[UnitStatusRecord]] = defaultdict(list)
    for status in statuses:
        by_programme[status.underlying_registry_id].append(status)
    findings: list[Finding] = []
    for programme in sorted(by_programme):
        kept = by_programme[programme]
        batches = _Batches(kept)
        # Only issuances of a batch some kept status names can share a unit with one
        # (`ranges_meet`: the same batch, or a batch id equal to a text or a batch); of
        # those the screen keeps the ones whose stored range meets a status's.
        keys = set(batches.ranges) | set(batches.texts)
        rows = read.resting_ranges(connection, programme, keys)
        candidates = prefilter.screen(rows, kept)
        for block in read_blocks.issuances_by_id(connection, candidates):
            if not any(rule.judged(block) for rule in RULES):
                continue
            units = units_of(block)
            for status in batches.meeting(block, units.prefix, units.first, units.last):
                for rule in RULES:
                    finding = rule.check(block, status)
                    if finding is not None:
                        findings.append(finding)
    return findings


def find(connection: Connection, underlying: set[str] | None = None) -> list[Finding]:
    """Every programme-rule finding (None: of every programme; else of these)."""
    if underlying is not None and not underlying:
        return []
    return _judge(connection, prefilter.statuses(connection, underlying))


def find_exhaustive(connection: Connection, underlying: set[str] | None = None) -> list[Finding]:
    """The reference: every status of every programme, paired with every resting
    issuance of its programme."""
    statuses = read.statuses(connection, underlying)
    by_programme: dict[str, list[UnitStatusRecord]] = defaultdict(list)
    for status in statuses:
        by_programme[status.underlying_registry_id].append(status)
    findings: list[Finding] = []
    for programme in sorted(by_programme):
        for block, _prefix, _first, _last in read.resting_issuances(connection, programme):
            for status in by_programme[programme]:
                for rule in RULES:
                    finding = rule.check(block, status)
                    if finding is not None:
                        findings.append(finding)
    return findings


def on_issuances(connection: Connection, issuances: Iterable[BlockRecord]) -> list[Finding]:
    """The programme rules' findings on these ITMO issuances (the authorization check:
    what the programmes say about the units a block rests on), judged now."""
    findings: list[Finding] = []
    for block in issuances:
        if not resting(block):
            continue
        for status in read.statuses_meeting(connection, units_of(block)):
            for rule in RULES:
                finding = rule.check(block, status)
                if finding is not None:
                    findings.append(finding)
    return findings


def resting_on(connection: Connection, units: ProgrammeUnits) -> list[BlockRecord]:
    """The ITMO issuances resting on these programme units (sharing one of them)."""
    return [
        block
        for block in read.issuances_meeting(connection, units)
        if resting(block) and ranges_meet(units_of(block), units)
    ]
