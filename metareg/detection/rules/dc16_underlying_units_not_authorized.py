"""DC16 underlying-units-not-authorized (high). Kind: programme. Alert scope:
underlying registry.

RULES.md: "the underlying units of an ITMO block overlap a `unit_status` whose
`article6_label` is `not-authorized`, or that is `unknown` where the programme's own
export labels authorized units (the programme profile says so)".

Decisions: the ITMO block's units are those its `Issuance` names, and "overlap" is
`rules.programmes.units_meet`. The second case is decided where the export is read:
the profile of a programme whose export labels authorized units maps a unit without
the label to `not-authorized` and says so in its notes (verra-transactions: Verra
marks "Article 6 Authorized" in Additional Certifications), because whether an export
labels authorized units is a property of the export, not of a record. So here an
`unknown` label never raises DC16: the programme has not said. One alert per (ITMO
issuance, status) pair: its evidence is the two records, its range the ITMO block's.
"""

from __future__ import annotations

from metareg.detection.rules.kinds import ProgrammeRule, programme_finding
from metareg.detection.rules.programmes import NOT_AUTHORIZED, UnitStatusRecord, resting
from metareg.detection.rules.terms import BlockRecord
from metareg.findings import Finding

CODE = "DC16"


def not_authorized(status: UnitStatusRecord) -> bool:
    return status.article6_label == NOT_AUTHORIZED


def check(block: BlockRecord, status: UnitStatusRecord) -> Finding | None:
    if not not_authorized(status):
        return None
    return programme_finding(
        CODE,
        block,
        status,
        f", which {status.registry_id} labels not authorized for Article 6 "
        f"({status.label()}, {status.status} on {status.status_date})",
    )


RULE = ProgrammeRule(
    code=CODE,
    judged=resting,
    check=check,
    actions=frozenset({"Issuance"}),
    narrows=(("article6_label", frozenset({NOT_AUTHORIZED})),),
    passed="the programme labels none of these units not authorized for Article 6",
)
