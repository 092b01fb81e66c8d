"""The units pass: the units rules (DC03) over issuances, by their underlying units.

`find` judges the candidates `prefilter.units` keeps (the issuances whose stored unit
range meets another's, those whose serials only compare as text, and every issuance
of an underlying registry the screen cannot vouch for), which yields the same findings
as judging every issuance (`find_exhaustive`; tests/detection/test_prefilter_units.py).
A units rule the screen does not cover is judged over every issuance.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection

from metareg.detection.prefilter import units as prefilter
from metareg.detection.read import blocks as read
from metareg.detection.rules import of_kind
from metareg.detection.rules.kinds import UnitsRule
from metareg.detection.rules.terms import BlockRecord
from metareg.findings import Finding, Identity

RULES = of_kind(UnitsRule)


def find(connection: Connection, underlying: set[str] | None = None) -> list[Finding]:
    """Every units-rule finding among all issuances (None) or those resting on these
    underlying registries."""
    if underlying is not None and not underlying:
        return []
    ids, whole = prefilter.candidate_ids(connection, underlying)
    candidates: dict[Identity, BlockRecord] = {}
    if whole:
        candidates.update((r.identity, r) for r in read.issuances(connection, whole))
    candidates.update((r.identity, r) for r in read.issuances_by_id(connection, ids))
    findings: list[Finding] = []
    for rule in RULES:
        if rule in prefilter.COVERED:
            findings += rule.check_issuances(candidates.values())
        else:
            findings += rule.check_issuances(read.issuances(connection, underlying))
    return findings


def find_exhaustive(
    connection: Connection, underlying: Iterable[str] | None = None
) -> list[Finding]:
    """Every units-rule finding, judging every issuance (the reference)."""
    return [
        finding
        for rule in RULES
        for finding in rule.check_issuances(read.issuances(connection, underlying))
    ]
