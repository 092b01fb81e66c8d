"""DC09 authorization-exceeded (high). Kind: authorization. Alert scope: authorization.

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

The running total is stated here once (`running_totals`): the passes give it the
first transfers to count and where the count starts (zero, or the sum of those
dated earlier, summed in SQL), and pass what it returns to `check` as
`AuthorizationFacts.running_total`.
"""

from __future__ import annotations

from collections.abc import Iterable

from metareg.detection.rules.kinds import AuthorizationRule, authorization_finding
from metareg.detection.rules.terms import (
    ACTION_TYPES,
    AuthorizationFacts,
    AuthorizationVersion,
    BlockRecord,
)
from metareg.findings import Finding, Identity

CODE = "DC09"
COUNTED = "First transfer"  # the action type whose units count towards the quantity
# The Party each action type names that must be among `authorized_party_ids`.
PARTY_FIELDS = {"First transfer": "acquiring_party_id", "Use": "using_party_id"}


def outside_timeframe(record: BlockRecord, authorization: AuthorizationVersion) -> bool:
    start, end = authorization.timeframe_start, authorization.timeframe_end
    if record.vintage is None:  # a proposed action may not state it
        return False
    return (start is not None and record.vintage < start) or (
        end is not None and record.vintage > end
    )


def party_not_authorized(record: BlockRecord, authorization: AuthorizationVersion) -> str | None:
    """The party that the authorization does not name, or None."""
    allowed = authorization.authorized_party_ids
    field = PARTY_FIELDS.get(record.action_type or "")
    if not allowed or field is None:
        return None
    party = getattr(record, field)
    return party if party is not None and party not in allowed else None


def transfer_order(record: BlockRecord) -> tuple[str, str, str]:
    return (record.action_date or "", record.registry_id, record.uid)


def exceeded(authorization: AuthorizationVersion | None, units: float) -> bool:
    """Whether `units` first transferred under the authorization exceed its quantity
    (then some first transfer took the running total past it)."""
    limit = authorization.authorized_quantity if authorization is not None else None
    return limit is not None and units > limit


def running_totals(
    authorization: AuthorizationVersion, actions: Iterable[BlockRecord], start: float = 0.0
) -> dict[Identity, float]:
    """The running total continued from `start` over the first transfers among
    `actions`, in date order: each first transfer from the one taking it past
    `authorized_quantity` on, with the total it reached."""
    if authorization.authorized_quantity is None:
        return {}
    transfers = sorted((r for r in actions if r.action_type == COUNTED), key=transfer_order)
    total = start
    over: dict[Identity, float] = {}
    for record in transfers:
        total += record.quantity
        if total > authorization.authorized_quantity:
            over[record.identity] = total
    return over


def reasons(
    record: BlockRecord, authorization: AuthorizationVersion, running_total: float | None
) -> list[str]:
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


def check(record: BlockRecord, facts: AuthorizationFacts) -> Finding | None:
    authorization = facts.authorization
    if authorization is None:
        return None
    why = reasons(record, authorization, facts.running_total)
    if not why:
        return None
    return authorization_finding(
        CODE,
        f"{record.label()} exceeds authorization {authorization.authorization_id}: "
        + "; ".join(why),
        record,
        authorization,
    )


RULE = AuthorizationRule(
    code=CODE,
    check=check,
    actions=ACTION_TYPES,
    passed="The vintage, the using Party and the quantity are within the authorization.",
)
