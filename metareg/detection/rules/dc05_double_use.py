"""DC05 double-use (critical).

RULES.md: "two distinct `Use` / `Cancellation` / `Voluntary cancellation` actions
overlap".

The pure predicates here are shared by the set-based check and by
`metareg.detection.evaluate.evaluate_action` (the API's "may these units be used?").
"""

from __future__ import annotations

from metareg.detection.rules.terms import USE_TYPES, Rec, overlap, pair_finding
from metareg.findings import Finding

CODE = "DC05"


def is_use(record: Rec) -> bool:
    """A use or cancellation of any kind (voluntary ones included)."""
    return record.action_type in USE_TYPES


def conflicts(a: Rec, b: Rec) -> bool:
    return is_use(a) and is_use(b) and a.identity != b.identity and overlap(a, b)


def check(a: Rec, b: Rec) -> Finding | None:
    if not conflicts(a, b):
        return None
    return pair_finding(
        CODE,
        a,
        b,
        f"serials {max(a.first_id, b.first_id)}-{min(a.last_id, b.last_id)} were used or "
        f"cancelled twice: {a.label()} on {a.action_date} and {b.label()} on {b.action_date}",
    )
