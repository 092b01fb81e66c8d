"""DC15 underlying-units-claimed-elsewhere (critical). Kind: programme. Alert scope:
underlying registry.

RULES.md: "the underlying units of an ITMO block (same `underlying_registry_id`, unit
ranges that intersect once parsed) overlap a `unit_status` that the programme reports
`retired` or `cancelled` for a purpose other than `article6`".

Decisions: the ITMO block's units are those its `Issuance` names, and "overlap" is
`rules.programmes.units_meet` (parsed ranges intersect; a batch id matched exactly).
A purpose of `unknown` is "other than `article6`": the programme did not say the units
were retired for Article 6, so the tonne may be claimed twice. One alert per (ITMO
issuance, status) pair: its evidence is the two records, its range the ITMO block's.
"""

from __future__ import annotations

from metareg.detection.rules.kinds import ProgrammeRule, programme_finding
from metareg.detection.rules.programmes import (
    ARTICLE6,
    CLAIMING_STATUSES,
    UnitStatusRecord,
    resting,
)
from metareg.detection.rules.terms import BlockRecord
from metareg.findings import Finding
from metareg.records.schemas import load_schema

CODE = "DC15"
# The purposes "other than `article6`" of unit_status (its schema's enumeration).
OTHER_PURPOSES = frozenset(load_schema("unit_status")["properties"]["purpose"]["enum"]) - {ARTICLE6}


def claimed_elsewhere(status: UnitStatusRecord) -> bool:
    """The programme reports the units retired or cancelled for another purpose."""
    return status.status in CLAIMING_STATUSES and status.purpose != ARTICLE6


def reason(status: UnitStatusRecord) -> str:
    """Why a block resting on these units is refused (the authorization check's DC15)."""
    whom = f" for {status.beneficiary}" if status.beneficiary else ""
    return (
        f"{status.label()} were {status.status} on {status.status_date} for a "
        f"{status.purpose} purpose{whom} (reported by {status.registry_id}), not for "
        "Article 6: the tonne is claimed elsewhere"
    )


def check(block: BlockRecord, status: UnitStatusRecord) -> Finding | None:
    if not claimed_elsewhere(status):
        return None
    return programme_finding(CODE, block, status, f"; {reason(status)}")


RULE = ProgrammeRule(
    code=CODE,
    judged=resting,
    check=check,
    actions=frozenset({"Issuance"}),
    narrows=(("status", CLAIMING_STATUSES), ("purpose", OTHER_PURPOSES)),
    passed="the programme reports none of these units retired or cancelled for another purpose",
)
