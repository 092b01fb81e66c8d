"""DC08 purpose-not-authorized (high). Kind: authorization. Alert scope: authorization.

RULES.md: "a `Use` or `Cancellation` whose `purpose` (`NDC` or `OIMP`) is not among
its authorization's `purposes`; or a `First transfer`, `Use` or `Cancellation` judged
against a `revoked` version (see below: units first transferred before a revocation
stay authorized, so their later use is not flagged for it)".

"Its authorization" is the version judging the action (`rules.versions`: a first
transfer by the version in force on its date, a use or cancellation by the version in
force when its units were first transferred), so a revocation never reaches back.

Decisions: only the purposes `NDC` and `OIMP` are judged (`OMGE` and `other` are not
authorization purposes). `OIMP` ("other international mitigation purposes") is the
umbrella of the AEF's `IMP` and `OP`, so an authorization for `OIMP`, `IMP` or `OP`
covers a use for `OIMP`. An action judged against a revoked version is flagged
whatever its purpose. Without an authoritative version DC07 speaks, not DC08.
"""

from __future__ import annotations

from metareg.detection.rules.kinds import AuthorizationRule, authorization_finding
from metareg.detection.rules.terms import AuthorizationFacts, AuthorizationVersion, BlockRecord
from metareg.findings import Finding

CODE = "DC08"
# The actions whose purpose is judged, and those a revoked version flags.
JUDGED = frozenset({"Use", "Cancellation"})
REVOCATION_JUDGED = frozenset({"First transfer", "Use", "Cancellation"})
COVERING = {"NDC": frozenset({"NDC"}), "OIMP": frozenset({"OIMP", "IMP", "OP"})}
REVOKED = "revoked"


def violation(record: BlockRecord, authorization: AuthorizationVersion | None) -> str | None:
    """Why the action is not authorized, or None when it is (or is not judged)."""
    if authorization is None:
        return None
    if authorization.status == REVOKED and record.action_type in REVOCATION_JUDGED:
        return (
            f"authorization {authorization.authorization_id} was revoked on "
            f"{authorization.authorization_date} (version {authorization.version})"
        )
    if record.action_type not in JUDGED:
        return None
    covering = COVERING.get(record.purpose or "")
    if covering is not None and not covering.intersection(authorization.purposes or ()):
        return (
            f"purpose {record.purpose} is not among the purposes "
            f"{', '.join(authorization.purposes or []) or '(none)'} of authorization "
            f"{authorization.authorization_id} (version {authorization.version})"
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
    actions=REVOCATION_JUDGED,
    passed="The authorization covers this purpose and was not revoked when it judges the action.",
)
