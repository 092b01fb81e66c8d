"""One proposed action judged against the current index, with the rules' own decisions.

The authorization check (`POST /v1/checks/authorization`) asks "may these units be
first transferred, or used towards an NDC / OIMP?" by building the proposed
`First transfer`, `Use` or `Cancellation` and calling `evaluate_action`: the answer
comes from the same rule functions as the checks over the index, never from a copy of
them. Every rule whose kind can be decided on one action is run: record rules on the
action alone, pair rules against the overlapping current records, units rules against
the issuances of its underlying registry, authorization rules against the version of
the authorization it names that judges it (`rules.versions`: the one in force on the
proposed date, or for a use when its units were first transferred) and the first
transfers already under it. Group rules judge holdings or the passing of time, and
versions rules (DC14) what registries report, not one action.

`judged_rules(action_type)` are the rules the check reports on, passed or failed:
those whose declaration names that action type among the record kinds they judge (a
pair rule by its `kinds`, an authorization rule by its `actions`). Rules on every pair
or every record (DC02, DC12) judge the identifier and quantity the request itself
gives, not the action: they are run, and a failure is reported, but a pass says
nothing. `PASSED` is what each says when the action passes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from metareg.detection.passes.authorization import judge_action
from metareg.detection.read import authorizations as read_authorizations
from metareg.detection.read import blocks as read_blocks
from metareg.detection.read import cached_totals
from metareg.detection.rules import RULES, of_kind
from metareg.detection.rules.dc09_authorization_exceeded import (
    COUNTED,
    running_totals,
    transfer_order,
)
from metareg.detection.rules.kinds import (
    AuthorizationRule,
    PairRule,
    RecordRule,
    Rule,
    UnitsRule,
)
from metareg.detection.rules.terms import (
    PROPOSED,
    AuthorizationFacts,
    AuthorizationVersion,
    BlockRecord,
    block_record,
)
from metareg.detection.rules.versions import Versions, judged_on
from metareg.findings import Finding

REQUIRED = ("action_type", "cooperative_approach_id", "party_registry_id", "first_id", "last_id")
RECORD_RULES = of_kind(RecordRule)
PAIR_RULES = of_kind(PairRule)
UNITS_RULES = of_kind(UnitsRule)
# The action types the authorization check proposes: a first transfer (a Party asks
# before it first transfers), a Use (for NDC) or a Cancellation (for OIMP), as the
# AEF records them.
PROPOSED_TYPES = ("First transfer", "Use", "Cancellation")


def judges(rule: Rule, action_type: str) -> bool:
    """Whether the rule's declaration names `action_type` among what it judges."""
    if isinstance(rule, PairRule):
        return any(action_type in kinds for kinds in rule.kinds or ())
    if isinstance(rule, AuthorizationRule | UnitsRule):
        return action_type in rule.actions
    return False


def judged_rules(action_type: str) -> tuple[str, ...]:
    """The codes of the rules the check reports on for a proposed `action_type`."""
    return tuple(rule.code for rule in RULES if judges(rule, action_type))


PASSED = {
    rule.code: rule.passed or f"No {rule.info.name} was found."
    for rule in RULES
    if any(judges(rule, kind) for kind in PROPOSED_TYPES)
}


def _as_record(action: dict[str, Any], as_of: date) -> BlockRecord:
    missing = [name for name in REQUIRED if action.get(name) in (None, "")]
    if missing:
        raise ValueError(f"the action lacks {', '.join(missing)}")
    if int(action["first_id"]) > int(action["last_id"]):
        raise ValueError("first_id must not be greater than last_id")
    record = {
        "first_transferring_party_id": str(action["party_registry_id"])[:3],
        "vintage": 0,
        "action_date": as_of.isoformat(),
        **action,
        "record_type": "action",
    }
    registry = str(action.get("registry") or action.get("registry_id") or PROPOSED)
    return block_record(record, registry, str(action.get("action_id") or PROPOSED))


@dataclass(frozen=True)
class Evaluation:
    """What the rules say of a proposed action: their findings, and the version of the
    authorization it names that judged it (None: it names none, or no registry acting
    for the authorizing Party states it)."""

    findings: list[Finding]
    authorization: AuthorizationVersion | None


def evaluate_action(
    connection: Connection, action: dict[str, Any], *, as_of: date
) -> list[Finding]:
    """`evaluate(...).findings`."""
    return evaluate(connection, action, as_of=as_of).findings


def evaluate(connection: Connection, action: dict[str, Any], *, as_of: date) -> Evaluation:
    """Findings (rule, name, severity, message, evidence, ...) that `action` would
    raise against the current index, for every rule that can be decided on one
    action (today DC01, DC02, DC03, DC05-DC09, DC12 and DC13; DC04, DC10 and DC11
    judge holdings or the passing of time, DC14 what registries report).

    `action` uses the canonical field names; `registry` (the reporting registry) and
    `action_id` are optional: when they name a stored action, that record is the
    action itself (a correction of it) and is not compared with it. A missing
    `action_date` is `as_of`; a missing `vintage` is not compared.
    """
    record = _as_record(action, as_of)
    if "vintage" not in action:
        record = record._replace(vintage=None)  # type: ignore[arg-type]
    findings: list[Finding] = []
    for record_rule in RECORD_RULES:
        found = record_rule.check(record)
        if found is not None:
            findings.append(found)
    others = [
        other
        for other in read_blocks.blocks_meeting(
            connection,
            record.cooperative_approach_id,
            record.party_registry_id,
            record.first_id,
            record.last_id,
            read_blocks.max_span(
                connection, record.cooperative_approach_id, record.party_registry_id
            ),
        )
        if other.identity != record.identity
    ]
    for other in others:
        for pair_rule in PAIR_RULES:
            found = pair_rule.check(record, other)
            if found is not None:
                findings.append(found)
    for units_rule in UNITS_RULES:
        if units_rule.judged(record):
            assert record.underlying_registry_id is not None
            issuances = [
                r
                for r in read_blocks.issuances(connection, [record.underlying_registry_id])
                if r.identity != record.identity
            ]
            findings += [
                f
                for f in units_rule.check_issuances([record, *issuances])
                if record.identity in f.evidence
            ]
    facts = _authorization_facts(connection, record, others)
    findings += judge_action(record, facts)
    return Evaluation(findings, facts.authorization)


def _versions(connection: Connection, ca: str, authorization_id: str) -> Versions:
    return Versions.of(read_authorizations.versions_of_key(connection, ca, authorization_id))


def _authorization_facts(
    connection: Connection, record: BlockRecord, others: list[BlockRecord]
) -> AuthorizationFacts:
    """The facts `check_key` would give the record were it in the index: the version
    judging it (for a use, as of its units' first transfer among the overlapping
    records `others`) and DC09's running total."""
    ca, authorization_id = record.cooperative_approach_id, record.authorization_id
    if not authorization_id:
        return AuthorizationFacts(None)
    versions = _versions(connection, ca, authorization_id)
    day = judged_on(record, others) if versions.dated else ""
    running = None
    if record.action_type == COUNTED and any(
        v.authorized_quantity is not None for v in versions.ordered
    ):
        running = _running_total(connection, versions, record)
    return versions.facts(day, running)


def _running_total(connection: Connection, versions: Versions, record: BlockRecord) -> float | None:
    """DC09's running total at `record` (as `check_key` would count it with the record
    added), if it passes the quantity of the version judging it: the first transfers
    dated earlier summed in SQL, continued over that day's, in `transfer_order`."""
    ca, authorization_id = record.cooperative_approach_id, record.authorization_id or ""
    day = record.action_date or ""
    try:
        date.fromisoformat(day or "2000-01-01")
    except ValueError:  # not a date the database can compare: count in Python, as text
        under = [
            r
            for r in read_authorizations.actions_naming(connection, ca, authorization_id)
            if r.identity != record.identity
        ]
        return running_totals(versions, [*under, record]).get(record.identity)
    before = read_authorizations.first_transferred(
        connection, ca, authorization_id, day, excluding=record.identity
    )
    same_day = [
        r
        for r in (
            read_authorizations.first_transfers_from(
                connection, ca, authorization_id, day, that_day=True
            )
            if day
            else []
        )
        if r.identity != record.identity and transfer_order(r) < transfer_order(record)
    ]
    return running_totals(versions, [*same_day, record], start=before).get(record.identity)


def authorization_status(
    connection: Connection, authorization: AuthorizationVersion
) -> dict[str, Any]:
    """The version of an authorization that judged a proposed action (`Evaluation`), as
    its registry states it, and the units first transferred under the authorization so
    far."""
    ca, authorization_id = authorization.cooperative_approach_id, authorization.authorization_id
    record = read_authorizations.version_record(connection, authorization)
    if record is None:
        raise LookupError(f"no current version {authorization.uid} of {authorization_id}")
    # Remembered while the index is unchanged: the sum is most of the check's time.
    first_transferred = cached_totals.first_transferred(connection, ca, authorization_id)
    authorized = authorization.authorized_quantity
    return {
        "registry": authorization.registry_id,
        "authorization": record,
        "first_transferred": first_transferred,
        "authorized_quantity": authorized,
        "remaining": None if authorized is None else authorized - first_transferred,
        "exceeded": authorized is not None and first_transferred > authorized,
    }
