"""DC12 quantity-mismatch (low). Kind: record. Alert scope: block range.

RULES.md: "a `GHG` record whose `quantity_tco2e` differs from `last_id - first_id + 1`".

Only records that give `quantity_tco2e` are judged (it is optional); one unit of a
GHG metric is one tonne, so the block size is the quantity.
"""

from __future__ import annotations

from metareg.detection.rules.kinds import RecordRule
from metareg.detection.rules.terms import BlockRecord, make_finding
from metareg.findings import Finding

CODE = "DC12"
METRIC = "GHG"


def mismatched(record: BlockRecord) -> bool:
    return (
        record.metric == METRIC
        and record.quantity_tco2e is not None
        and record.quantity_tco2e != record.quantity
    )


def check(record: BlockRecord) -> Finding | None:
    if not mismatched(record):
        return None
    return make_finding(
        CODE,
        f"{record.label()} states {record.quantity_tco2e:g} t CO2 eq but its block holds "
        f"{record.quantity} units",
        (record.identity,),
        block=record,
    )


RULE = RecordRule(code=CODE, check=check)
