"""DC09 authorization-exceeded (high). Kind: authorization. Alert scope: authorization.

RULES.md: "under one authorization, the units first transferred add up to more than
`authorized_quantity` (raised on each first transfer, taken in date order, from the
one that takes the running total past it); or an action's vintage lies outside
`timeframe_start..timeframe_end`; or the `acquiring_party_id` of a `First transfer`,
or the `using_party_id` of a `Use`, is not among `authorized_party_ids` (where that
list is given)"; and "DC09 also fires when a `Use` or `Cancellation` names a
`using_entity_id` not among the authorization's `authorized_entity_ids` (where that
list is given). Under DC09 "first transferred" means every `First transfer` action,
whatever its subtype".

Every clause reads the version judging the action (`rules.versions`).

Decisions: units first transferred are block sizes (`last_id - first_id + 1`); the
running total counts every first transfer under the authorization (any subtype, with
or without a buyer: RECORDS.md's first transfers for OIMP at authorization, issuance
or use have none), in date order, first transfers on the same date in identity order
(registry, action id); each first transfer is compared with the quantity of the
version judging it (the version in force on its date), so a later version with a
smaller quantity flags the first transfers from its date on, never those before it.
"An action" of the timeframe clause is any action naming the authorization; each
bound of the timeframe is applied when given. A first transfer without a buyer names
no Party to judge. One alert per action, whatever the number of reasons (the message
lists them all), so the alert is stable while the reasons change.

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
from metareg.detection.rules.versions import Versions
from metareg.findings import Finding, Identity

CODE = "DC09"
COUNTED = "First transfer"  # the action type whose units count towards the quantity
# The Party each action type names that must be among `authorized_party_ids`.
PARTY_FIELDS = {"First transfer": "acquiring_party_id", "Use": "using_party_id"}
# The action types whose `using_entity_id` must be among `authorized_entity_ids`.
ENTITY_JUDGED = frozenset({"Use", "Cancellation"})


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


def entity_not_authorized(record: BlockRecord, authorization: AuthorizationVersion) -> str | None:
    """The using entity that the authorization does not name, or None."""
    allowed = authorization.authorized_entity_ids
    entity = record.using_entity_id
    if not allowed or record.action_type not in ENTITY_JUDGED or entity is None:
        return None
    return entity if entity not in allowed else None


def transfer_order(record: BlockRecord) -> tuple[str, str, str]:
    return (record.action_date or "", record.registry_id, record.uid)


def may_exceed(versions: Versions, units: float) -> bool:
    """Whether `units` first transferred under the authorization can take a running
    total past the quantity of a version judging a first transfer (a necessary
    condition: some version's quantity is below them)."""
    return any(
        v.authorized_quantity is not None and units > v.authorized_quantity
        for v in versions.ordered
    )


def running_totals(
    versions: Versions, actions: Iterable[BlockRecord], start: float = 0.0
) -> dict[Identity, float]:
    """The running total continued from `start` over the first transfers among
    `actions`, in date order: each first transfer whose total passes the quantity of
    the version judging it (in force on its date), with the total it reached."""
    if not any(v.authorized_quantity is not None for v in versions.ordered):
        return {}
    transfers = sorted((r for r in actions if r.action_type == COUNTED), key=transfer_order)
    total = start
    over: dict[Identity, float] = {}
    for record in transfers:
        total += record.quantity
        judging = versions.judging(record.action_date or "")
        limit = judging.authorized_quantity if judging is not None else None
        if limit is not None and total > limit:
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
    entity = entity_not_authorized(record, authorization)
    if entity is not None:
        found.append(f"entity {entity} is not among the authorized entities")
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
        f"{record.label()} exceeds authorization {authorization.authorization_id} "
        f"(version {authorization.version}): " + "; ".join(why),
        record,
        authorization,
    )


RULE = AuthorizationRule(
    code=CODE,
    check=check,
    actions=ACTION_TYPES,
    passed="The vintage, the acquiring or using Party, the using entity and the quantity "
    "are within the authorization.",
)
