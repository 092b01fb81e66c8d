"""The full finding: every rule over the whole index.

The block rules: every current block is read once as a few integers and screened with
numpy (`prefilter.blocks`); only the clusters of overlapping blocks where a block
rule could speak are read whole and swept (`passes.sweep`). The authorization rules
come from per-authorization SQL filters whose rows the rules then judge
(`passes.authorization.full_pass`), the units rules from the unit ranges parsed when
each issuance was written (`passes.units`). `exhaustive=True` (and a screen that
cannot read the index) sweeps every block, judges every action and compares every
issuance: the reference the screened finding is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy import Connection

from metareg.detection.pages import ordinary_pages
from metareg.detection.passes import authorization, programmes, units
from metareg.detection.passes.scope import Detected, JudgedScope
from metareg.detection.passes.sweep import sweep_group
from metareg.detection.prefilter import blocks as screen
from metareg.detection.read import blocks as read
from metareg.detection.rules.kinds import CheckContext
from metareg.findings import Finding
from metareg.log import get_logger

log = get_logger("metareg.detection")


Others = tuple[list[Finding], dict[tuple[str, str], int]]


@ordinary_pages()
def find_all(
    connection: Connection,
    context: CheckContext,
    *,
    exhaustive: bool = False,
    others: Callable[[], Others | None] | None = None,
) -> Detected:
    """Every finding of the index, screened or, when `exhaustive` or when the screen
    cannot read the index, by judging everything. `others`: the authorization and
    units findings and DC09's totals (`judge_others`) made elsewhere meanwhile (in a
    reading process, `checks.full_reads`), asked for once the blocks are judged;
    without it, or when it answers None, they are judged here."""
    totals: dict[tuple[str, str], int] = {}
    findings = _findings(connection, context, exhaustive, totals, others)
    return Detected(findings, JudgedScope(everything=True), first_transferred=totals)


def _findings(
    connection: Connection,
    context: CheckContext,
    exhaustive: bool,
    totals: dict[tuple[str, str], int],
    others: Callable[[], Others | None] | None,
) -> list[Finding]:
    """The findings; `totals` receives DC09's totals the authorization pass summed."""
    if exhaustive:
        return _exhaustive(connection, context)
    try:
        records = screen.read(connection)
    except screen.ScreenUnavailable as why:
        log.warning("screen unavailable, sweeping every block", reason=str(why))
        return _exhaustive(connection, context)
    findings = _screened_blocks(connection, context, records)
    answer = None if others is None else others()
    if answer is None:
        return findings + judge_others(connection, totals)
    found, summed = answer
    totals.update(summed)
    return findings + found


def judge_others(connection: Connection, totals: dict[tuple[str, str], int]) -> list[Finding]:
    """The authorization and units rules, screened; `totals` receives DC09's totals."""
    return [
        *authorization.full_pass(connection, totals=totals),
        *units.find(connection),
        *programmes.find(connection),
    ]


def _exhaustive(connection: Connection, context: CheckContext) -> list[Finding]:
    """The reference: every block swept, every action judged (and every authorization's
    versions), every issuance compared."""
    findings: list[Finding] = []
    inline = authorization.InlineAuthorizations(connection)
    for ca, registry in read.pairs(connection):
        findings.extend(sweep_group(read.blocks(connection, ca, registry), context, inline))
    findings.extend(inline.finish(connection))
    findings.extend(units.find_exhaustive(connection))
    findings.extend(programmes.find_exhaustive(connection))
    return findings


def _screened_blocks(
    connection: Connection, context: CheckContext, screened: screen.Records
) -> list[Finding]:
    """The block rules over the clusters the screen keeps (`screen.read`), pair by
    pair."""
    findings: list[Finding] = []
    for _pair, action_ids, holding_ids in screen.suspects(screened, context):
        records = read.blocks_by_id(connection, action_ids, holding_ids)
        records.sort(key=lambda r: (r.first_id, r.record_type, r.registry_id, r.uid))
        findings.extend(sweep_group(records, context))
    return findings


@ordinary_pages()
def find_in_approaches(
    connection: Connection, context: CheckContext, approaches: Collection[str]
) -> list[Finding]:
    """The block and authorization findings of these cooperative approaches: no such
    rule looks across two approaches (a pair's blocks, an authorization's key and every
    registry's versions of it are all of one), so the findings of a partition of the
    approaches are exactly the full finding's there (a partitioned check,
    `metareg.checks.partitions`)."""
    try:
        findings = _screened_blocks(connection, context, screen.read(connection, approaches))
    except screen.ScreenUnavailable as why:
        log.warning("screen unavailable, sweeping every block", reason=str(why))
        findings = []
        for ca, registry in read.pairs(connection):
            if ca in approaches:
                findings.extend(sweep_group(read.blocks(connection, ca, registry), context))
    return findings + authorization.full_pass(connection, approaches)


def find_in_programmes(connection: Connection, underlying: set[str]) -> list[Finding]:
    """The units and programme findings (DC03, DC15, DC16) of issuances resting on these
    underlying registries: each is judged within one underlying registry."""
    return [*units.find(connection, underlying), *programmes.find(connection, underlying)]
