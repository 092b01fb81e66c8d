"""DC08 purpose-not-authorized (high). Kind: authorization. Alert scope: authorization.

RULES.md: "a `Use` or `Cancellation` whose `purpose` (`NDC` or `OIMP`) is not among
its authorization's `purposes`, or an authorization that is `revoked`".

Decisions: only the purposes `NDC` and `OIMP` are judged (`OMGE` and `other` are not
authorization purposes). `OIMP` ("other international mitigation purposes") is the
umbrella of the AEF's `IMP` and `OP`, so an authorization for `OIMP`, `IMP` or `OP`
covers a use for `OIMP`. A `Use` or `Cancellation` under a revoked authorization is
flagged whatever its purpose. Without a current authorization DC07 speaks, not DC08.
"""

from __future__ import annotations

from metareg.detection.rules.kinds import AuthorizationRule, authorization_finding
from metareg.detection.rules.terms import AuthorizationFacts, AuthorizationVersion, BlockRecord
from metareg.findings import Finding

CODE = "DC08"
JUDGED = frozenset({"Use", "Cancellation"})
COVERING = {"NDC": frozenset({"NDC"}), "OIMP": frozenset({"OIMP", "IMP", "OP"})}
REVOKED = "revoked"


def violation(record: BlockRecord, authorization: AuthorizationVersion | None) -> str | None:
    """Why the use is not authorized, or None when it is (or is not judged)."""
    if record.action_type not in JUDGED or authorization is None:
        return None
    if authorization.status == REVOKED:
        return f"authorization {authorization.authorization_id} is revoked"
    covering = COVERING.get(record.purpose or "")
    if covering is not None and not covering.intersection(authorization.purposes or ()):
        return (
            f"purpose {record.purpose} is not among the purposes "
            f"{', '.join(authorization.purposes or []) or '(none)'} of authorization "
            f"{authorization.authorization_id}"
        )
    return None


def check(record: BlockRecord, facts: AuthorizationFacts) -> Finding | None:
    why = violation(record, facts.authorization)
    if why is None:
        return None
    return authorization_finding(CODE, f"{record.label()}: {why}", record, facts.authorization)


RULE = AuthorizationRule(
    code=CODE,
    check=check,
    actions=JUDGED,
    passed="The authorization covers this purpose and is not revoked.",
)
