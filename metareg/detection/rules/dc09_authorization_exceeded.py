"""DC09 authorization-exceeded (high).

RULES.md: "under one authorization, the units first transferred add up to more than
`authorized_quantity` (raised on each first transfer, taken in date order, from the
one that takes the running total past it); or an action's vintage lies outside
`timeframe_start..timeframe_end`; or the `acquiring_party_id` of a `First transfer`,
or the `using_party_id` of a `Use`, is not among `authorized_party_ids` (where that
list is given)".

Decisions: units first transferred are block sizes (`last_id - first_id + 1`); first
transfers on the same date are taken in identity order (registry, action id); "an
action" is any action naming the authorization; each bound of the timeframe is
applied when given. One alert per action, whatever the number of reasons (the
message lists them all), so the alert is stable while the reasons change.
Shared with `evaluate_action`.
"""

from __future__ import annotations

from collections.abc import Iterable

from metareg.detection.rules.terms import AuthRec, Rec, auth_scope, make_finding
from metareg.findings import Finding

CODE = "DC09"


def outside_timeframe(record: Rec, authorization: AuthRec) -> bool:
    start, end = authorization.timeframe_start, authorization.timeframe_end
    if record.vintage is None:  # a hypothetical action may not state it
        return False
    return (start is not None and record.vintage < start) or (
        end is not None and record.vintage > end
    )


def party_not_authorized(record: Rec, authorization: AuthRec) -> str | None:
    """The party that the authorization does not name, or None."""
    allowed = authorization.authorized_party_ids
    if not allowed:
        return None
    if record.action_type == "First transfer":
        party = record.acquiring_party_id
    elif record.action_type == "Use":
        party = record.using_party_id
    else:
        return None
    return party if party is not None and party not in allowed else None


def transfer_order(record: Rec) -> tuple[str, str, str]:
    return (record.action_date or "", record.registry_id, record.uid)


def over_quantity(authorization: AuthRec, actions: Iterable[Rec]) -> dict[Rec, float]:
    """First transfers, in date order, from the one taking the running total past
    `authorized_quantity`: each with the running total it reached."""
    if authorization.authorized_quantity is None:
        return {}
    transfers = sorted(
        (r for r in actions if r.action_type == "First transfer"), key=transfer_order
    )
    total = 0.0
    exceeded: dict[Rec, float] = {}
    for record in transfers:
        total += record.quantity
        if total > authorization.authorized_quantity:
            exceeded[record] = total
    return exceeded


def reasons(record: Rec, authorization: AuthRec, running_total: float | None) -> list[str]:
    found = []
    if running_total is not None:
        found.append(
            f"first transfers under it reach {running_total:g} units, more than the "
            f"authorized {authorization.authorized_quantity:g}"
        )
    if outside_timeframe(record, authorization):
        found.append(
            f"vintage {record.vintage} is outside the authorized timeframe "
            f"{authorization.timeframe_start or '…'}-{authorization.timeframe_end or '…'}"
        )
    party = party_not_authorized(record, authorization)
    if party is not None:
        found.append(f"party {party} is not among the authorized parties")
    return found


def make(record: Rec, authorization: AuthRec, why: list[str]) -> Finding:
    return make_finding(
        CODE,
        f"{record.label()} exceeds authorization {authorization.authorization_id}: "
        + "; ".join(why),
        (record.identity, authorization.identity),
        block=record,
        scope=auth_scope(authorization.authorization_id),
    )


def check_authorization(authorization: AuthRec, actions: list[Rec]) -> list[Finding]:
    """Every DC09 finding among the actions naming one (current) authorization."""
    totals = over_quantity(authorization, actions)
    findings = []
    for record in actions:
        why = reasons(record, authorization, totals.get(record))
        if why:
            findings.append(make(record, authorization, why))
    return findings
