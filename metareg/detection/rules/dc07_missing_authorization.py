"""DC07 missing-authorization (high).

RULES.md: "a `First transfer`, `Use` or `Cancellation` whose `authorization_id` is
absent, or names no current authorization of that cooperative approach".

Voluntary cancellations are not named by the rule and are not judged. Shared with
`evaluate_action`.
"""

from __future__ import annotations

from metareg.detection.rules.terms import AuthRec, Rec, auth_scope, make_finding
from metareg.findings import Finding

CODE = "DC07"
NEEDS_AUTHORIZATION = frozenset({"First transfer", "Use", "Cancellation"})


def applies(record: Rec) -> bool:
    return record.action_type in NEEDS_AUTHORIZATION


def missing(record: Rec, authorization: AuthRec | None) -> bool:
    return applies(record) and (not record.authorization_id or authorization is None)


def check(record: Rec, authorization: AuthRec | None) -> Finding | None:
    if not missing(record, authorization):
        return None
    why = (
        "names no authorization"
        if not record.authorization_id
        else f"names authorization {record.authorization_id}, which no registry reports "
        f"for {record.cooperative_approach_id}"
    )
    return make_finding(
        CODE,
        f"{record.label()} {why}",
        (record.identity,),
        block=record,
        scope=auth_scope(record.authorization_id),
    )
