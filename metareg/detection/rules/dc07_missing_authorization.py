"""DC07 missing-authorization (high). Kind: authorization. Alert scope: authorization.

RULES.md: "a `First transfer`, `Use` or `Cancellation` whose `authorization_id` is
absent, or names no current authorization of that cooperative approach", and
"An authorization reported only by other registries counts as absent for DC07" (only
versions reported by a registry authoritative for the authorizing Party count:
`rules.versions`).

Voluntary cancellations are not named by the rule and are not judged. An action
dated before every version of the authorization it names is DC13's, not DC07's: the
authorization exists (`rules.versions`: it is judged against the first version).
"""

from __future__ import annotations

from metareg.detection.rules.kinds import AuthorizationRule, authorization_finding
from metareg.detection.rules.terms import AuthorizationFacts, AuthorizationVersion, BlockRecord
from metareg.findings import Finding

CODE = "DC07"
NEEDS_AUTHORIZATION = frozenset({"First transfer", "Use", "Cancellation"})


def missing(record: BlockRecord, authorization: AuthorizationVersion | None) -> bool:
    return record.action_type in NEEDS_AUTHORIZATION and (
        not record.authorization_id or authorization is None
    )


def check(record: BlockRecord, facts: AuthorizationFacts) -> Finding | None:
    if not missing(record, facts.authorization):
        return None
    why = (
        "names no authorization"
        if not record.authorization_id
        else f"names authorization {record.authorization_id}, which no registry acting for "
        f"the authorizing Party reports for {record.cooperative_approach_id}"
    )
    return authorization_finding(CODE, f"{record.label()} {why}", record)


RULE = AuthorizationRule(
    code=CODE,
    check=check,
    actions=NEEDS_AUTHORIZATION,
    unnamed_actions=NEEDS_AUTHORIZATION,
    passed="The authorization is a current authorization of the cooperative approach, "
    "stated by a registry acting for the authorizing Party.",
)
