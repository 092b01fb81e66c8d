"""DC13 action-before-authorization (high). Kind: authorization. Alert scope:
authorization.

RULES.md: "a `First transfer`, `Use` or `Cancellation` dated before the
`authorization_date` of the first version of the authorization it names".

Decisions: "the first version" is the authoritative version that came into force
first (`rules.versions.Versions.first`: the earliest `authorization_date`); versions
reported only by registries not acting for the authorizing Party do not count (then
DC07 speaks). "Dated" is the action's own `action_date`, a use or cancellation's
too (not its units' first transfer): it is the use that happened before the
authorization. The same day is not before. The evidence is the action and that
first version. DC07-DC09 judge the action against the first version meanwhile
(`rules.versions`).
"""

from __future__ import annotations

from metareg.detection.rules.kinds import AuthorizationRule, authorization_finding
from metareg.detection.rules.terms import AuthorizationFacts, BlockRecord
from metareg.findings import Finding

CODE = "DC13"
JUDGED = frozenset({"First transfer", "Use", "Cancellation"})


def before_authorization(record: BlockRecord, facts: AuthorizationFacts) -> bool:
    first = facts.first
    return (
        record.action_type in JUDGED
        and first is not None
        and record.action_date is not None
        and record.action_date < first.authorization_date
    )


def check(record: BlockRecord, facts: AuthorizationFacts) -> Finding | None:
    if not before_authorization(record, facts):
        return None
    assert facts.first is not None
    first = facts.first
    return authorization_finding(
        CODE,
        f"{record.label()} is dated {record.action_date}, before authorization "
        f"{first.authorization_id} was first given on {first.authorization_date} "
        f"(version {first.version} of {first.registry_id})",
        record,
        first,
    )


RULE = AuthorizationRule(
    code=CODE,
    check=check,
    actions=JUDGED,
    passed="The action is dated on or after the authorization was first given.",
)
