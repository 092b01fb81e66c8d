"""The programme pass: DC15 and DC16 (and any `ProgrammeRule`) over the ITMO
issuances resting on programme units and the statuses the programmes report.

The pairs come from the database, never from reading either side whole:

- parsed issuance and parsed status (nearly all): one join on the stored ranges (same
  programme and batch, intersecting blocks), the statuses limited to those one rule
  can speak on (`prefilter.programmes`); each kept status finds the issuances of its
  batch through their index, so the work grows with the kept statuses and the pairs
  (times log of the issuances), not with the issuances;
- a kept status without a stored range (a batch id): the issuances of that batch;
- an issuance without a stored range (few): the statuses that may meet it, looked up
  on their own.

Each pair goes to every programme rule, which decides (`units_meet` included), so the
findings are those of judging every (issuance, status) pair (`find_exhaustive`;
tests/detection/test_programmes.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Connection

from metareg.db.engine import file_mapped
from metareg.detection.prefilter import programmes as prefilter
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
from metareg.findings import Finding, Identity

RULES = of_kind(ProgrammeRule)


def _pairs(
    connection: Connection, underlying: set[str] | None
) -> dict[Identity, tuple[BlockRecord, list[UnitStatusRecord]]]:
    """Each issuance that may share a unit with a kept status, with those statuses (a
    superset the rules narrow)."""
    narrows = prefilter.narrows()
    found: dict[Identity, tuple[BlockRecord, list[UnitStatusRecord]]] = {}

    def add(block: BlockRecord, statuses: Iterable[UnitStatusRecord]) -> None:
        found.setdefault(block.identity, (block, []))[1].extend(statuses)

    for block, status in read.parsed_pairs(connection, underlying, narrows):
        add(block, (status,))
    # Batch ids: a kept status whose text is an issuance's stored batch.
    by_text: dict[str, dict[str, list[UnitStatusRecord]]] = defaultdict(lambda: defaultdict(list))
    for status in read.unparsed_statuses(connection, underlying, narrows):
        by_text[status.underlying_registry_id][status.first_unit_id].append(status)
    for programme, texts in sorted(by_text.items()):
        for block in read.issuances_in_batches(connection, programme, texts):
            units = units_of(block)
            met = texts.get(units.prefix or "", [])
            if block.first_unit_id != units.prefix:
                met = met + texts.get(block.first_unit_id or "", [])
            add(block, met)
    # Issuances without a stored range: their statuses looked up one issuance at a time.
    for block in read.unparsed_issuances(connection, underlying):
        if resting(block):
            add(block, read.statuses_meeting(connection, units_of(block)))
    return found


def find(connection: Connection, underlying: set[str] | None = None) -> list[Finding]:
    """Every programme-rule finding (None: of every programme; else of these)."""
    if underlying is not None and not underlying:
        return []
    findings: list[Finding] = []
    # The kept statuses and their issuances are index seeks spread over the whole file:
    # through a memory map on SQLite, as the blocks' screen reads.
    with file_mapped(connection):
        pairs = _pairs(connection, underlying)
    for identity in sorted(pairs):
        block, statuses = pairs[identity]
        if not any(rule.judged(block) for rule in RULES):
            continue
        statuses.sort(key=lambda s: (s.unit_first or 0, s.registry_id, s.uid))
        for status in statuses:
            for rule in RULES:
                finding = rule.check(block, status)
                if finding is not None:
                    findings.append(finding)
    return findings


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
        if resting(block):
            findings += on_statuses(block, read.statuses_meeting(connection, units_of(block)))
    return findings


def on_statuses(block: BlockRecord, statuses: Iterable[UnitStatusRecord]) -> list[Finding]:
    """The programme rules' findings on one ITMO issuance resting on programme units,
    given the statuses that may meet them (`read.statuses_meeting`), in their order."""
    findings: list[Finding] = []
    for status in statuses:
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
