"""DC01 double-issuance (critical). Kind: pair. Alert scope: block range.

RULES.md: "two distinct `Issuance` actions overlap".

The same serials of one cooperative approach and originating registry issued twice:
the mitigation outcome exists twice. Two reports of one issuance by two registries
are two distinct records and do conflict: an issuance belongs in one registry only.
"""

from __future__ import annotations

from metareg.detection.rules.kinds import PairRule
from metareg.detection.rules.terms import BlockRecord, overlap, pair_finding
from metareg.findings import Finding

CODE = "DC01"
ISSUANCES = frozenset({"Issuance"})


def is_issuance(record: BlockRecord) -> bool:
    return record.action_type in ISSUANCES


def conflicts(a: BlockRecord, b: BlockRecord) -> bool:
    return is_issuance(a) and is_issuance(b) and a.identity != b.identity and overlap(a, b)


def check(a: BlockRecord, b: BlockRecord) -> Finding | None:
    if not conflicts(a, b):
        return None
    return pair_finding(
        CODE,
        a,
        b,
        f"serials {max(a.first_id, b.first_id)}-{min(a.last_id, b.last_id)} of "
        f"{a.cooperative_approach_id}/{a.party_registry_id} were issued twice: "
        f"{a.label()} and {b.label()}",
    )


RULE = PairRule(code=CODE, check=check, kinds=frozenset({("Issuance", "Issuance")}))
