"""The authorization check: may these ITMOs be first transferred, or used for this
purpose by this Party?

The check builds the action the request proposes (a `First transfer`; a `Use` for
NDC or a `Cancellation` for OIMP, as the AEF records them) and hands it to
detection's proposed-action evaluation, which runs the rules' own decisions on it: the
same code the checks run over the index, not a copy. The authorization relied on is
the one the request names (or, for a use or cancellation, the one the units' first
transfer names); the rules judge the action against the version of it in force on the
proposed date (a use: when its units were first transferred), stated by a registry
acting for the authorizing Party.

The units may also be named by the underlying programme's own serial (a Verra or Gold
Standard serial, an ACR range) instead of an ITMO identifier: the check then judges
every ITMO block resting on those units. Either way the answer shows both sides: the
ITMO blocks, and what the programme reports about the units they rest on (its
`unit_status` records); the programme rules (DC15, DC16) judge the blocks' issuances
against them, so units the programme reports retired for a voluntary claim are denied
with DC15's reason.

Decisions: `denied` when any rule finds a conflict, or when an unresolved alert of
critical severity lies on the units (CK04: the Kyoto Protocol's international
transaction log refused units "for which a previously identified discrepancy has not
been resolved"; an acknowledged alert is not resolved); `unknown` when the index lacks
what the rules need (CK01-CK03); `allowed` otherwise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from sqlalchemy import Connection

from metareg.detection.passes import programmes as programme_rules
from metareg.detection.passes.proposed import (
    PASSED,
    authorization_status,
    evaluate,
    judged_rules,
)
from metareg.detection.read.programmes import status_record, status_rows_meeting
from metareg.detection.rules import of_kind
from metareg.detection.rules.kinds import ProgrammeRule
from metareg.detection.rules.programmes import programme_units, units_of
from metareg.detection.rules.terms import BlockRecord, block_record
from metareg.findings import Finding
from metareg.index import query
from metareg.index.state import derive_segments
from metareg.oversight.alerts import unresolved_touching
from metareg.oversight.programmes import infer_programme, statuses_of_rows, statuses_on
from metareg.records.canonical import block_text
from metareg.records.identifiers import IdentifierError, ITMOBlock, parse_itmo
from metareg.records.validate import Problem, RecordValidator

# Why a check cannot decide, or denies beside the rules (not rules of RULES.md:
# properties of the index's coverage and of the alerts on the units).
NOT_IN_INDEX = "CK01"
NO_AUTHORIZATION = "CK02"
SEVERAL_AUTHORIZATIONS = "CK03"
UNRESOLVED_DISCREPANCY = "CK04"
NO_BLOCK_ON_UNITS = "CK05"
PROGRAMME_RULES = of_kind(ProgrammeRule)
_DECISION_ORDER = {"allowed": 0, "unknown": 1, "denied": 2}
BLOCKING_SEVERITY = "critical"

FIRST_TRANSFER = "First transfer"
# The action a use proposes when the request does not say: the AEF records a use
# towards an NDC as a `Use`, a use for OIMP as a `Cancellation`.
USE_FOR = {"NDC": "Use", "OIMP": "Cancellation"}


class InvalidProposal(ValueError):
    """The request describes no valid action: a use without its purpose or Party, or an
    action the action schema refuses (a first transfer to another Party without its
    `acquiring_party_id`)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ProposedAction:
    """What the caller means to do on `date` (None: today) with the units `identifier`
    names: first transfer them (`action_type` "First transfer", to
    `acquiring_party_id`, none for a first transfer for OIMP at authorization, issuance
    or use: `action_subtype`), or use (NDC) or cancel (OIMP) them for
    `using_party_id`, under `authorization_id` (None: for a use, the one the units'
    first transfer names)."""

    identifier: str  # an ITMO identifier, or a programme serial (with `programme`)
    purpose: str | None = None  # NDC or OIMP; required for a use or cancellation
    using_party_id: str | None = None
    using_entity_id: str | None = None
    date: dt.date | None = None
    authorization_id: str | None = None
    action_type: str | None = None  # default: USE_FOR[purpose]
    acquiring_party_id: str | None = None
    action_subtype: str | None = None
    # The underlying programme (VCS, GS, ACR, ...) when `identifier` is its serial; None:
    # an ITMO identifier, or a serial whose shape names its programme.
    programme: str | None = None

    @property
    def proposed_type(self) -> str:
        return self.action_type or USE_FOR.get(self.purpose or "", "Use")


def hypothetical_action(
    request: ProposedAction, block: ITMOBlock, when: dt.date, auth: str | None
) -> dict[str, Any]:
    """The action the request describes, in canonical form (never stored)."""
    action_type = request.proposed_type
    action: dict[str, Any] = {
        "record_type": "action",
        "action_id": f"check-{uuid.uuid4()}",
        "action_date": when.isoformat(),
        "action_type": action_type,
        "cooperative_approach_id": block.cooperative_approach_id,
        "party_registry_id": block.party_registry_id,
        "first_transferring_party_id": block.first_transferring_party_id,
        "first_id": block.first_id,
        "last_id": block.last_id,
        "vintage": block.vintage,
    }
    optional: dict[str, Any] = {
        "authorization_id": auth,
        "action_subtype": request.action_subtype,
        "acquiring_party_id": request.acquiring_party_id if action_type == FIRST_TRANSFER else None,
    }
    if action_type != FIRST_TRANSFER:
        optional |= {
            "purpose": request.purpose,
            "using_party_id": request.using_party_id,
            "using_entity_id": request.using_entity_id,
            "ndc_use_year": when.year if request.purpose == "NDC" else None,
        }
    action.update((name, value) for name, value in optional.items() if value is not None)
    return action


@cache
def _validator() -> RecordValidator:
    return RecordValidator()


# Stands in for an authorization the check looks up from the units' first transfer:
# the action schema requires one.
_TO_BE_LOOKED_UP = "(the one the first transfer names)"


def check_proposal(request: ProposedAction, block: ITMOBlock, when: dt.date) -> None:
    """Raise `InvalidProposal` unless the request describes a valid action (the action
    schema decides, plus: a use or cancellation names its purpose and using Party)."""
    if request.proposed_type != FIRST_TRANSFER:
        missing = [
            Problem(f"$.{name}", "is required for a use or cancellation")
            for name in ("purpose", "using_party_id")
            if getattr(request, name) is None
        ]
        if missing:
            raise InvalidProposal(missing)
    action = hypothetical_action(request, block, when, request.authorization_id)
    problems = _validator().problems({"authorization_id": _TO_BE_LOOKED_UP, **action})
    if problems:
        raise InvalidProposal(problems)


def _first_transfer_authorizations(found: list[dict[str, Any]]) -> set[str]:
    return {
        item["record"]["authorization_id"]
        for item in found
        if item["record_type"] == "action"
        and item["record"].get("action_type") == FIRST_TRANSFER
        and item["record"].get("authorization_id")
    }


def _authorization_named(
    request: ProposedAction, found: list[dict[str, Any]]
) -> tuple[str | None, dict[str, Any] | None]:
    """The authorization to judge against, or why the check cannot choose one."""
    if request.authorization_id is not None:
        return request.authorization_id, None
    if request.proposed_type == FIRST_TRANSFER:
        return None, {
            "code": NO_AUTHORIZATION,
            "outcome": "unknown",
            "message": "Name the authorization the first transfer is to be made under.",
        }
    named = sorted(_first_transfer_authorizations(found))
    if not named:
        return None, {
            "code": NO_AUTHORIZATION,
            "outcome": "unknown",
            "message": "No first transfer of these units naming an authorization is in the "
            "index; name the authorization to check against.",
        }
    if len(named) > 1:
        return None, {
            "code": SEVERAL_AUTHORIZATIONS,
            "outcome": "unknown",
            "message": "These units were first transferred under several authorizations "
            f"({', '.join(named)}); check each part separately or name one.",
        }
    return named[0], None


def _unresolved_discrepancies(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A reason (CK04) for each unresolved critical alert on the units."""
    return [
        {
            "code": UNRESOLVED_DISCREPANCY,
            "outcome": "failed",
            "message": f"Alert {alert['id']} ({alert['rule']} {alert['name']}, "
            f"{alert['severity']}) on serials {alert['first_id']}-{alert['last_id']} is "
            f"{alert['status']}: units with an unresolved discrepancy are not to be "
            f"transferred or used until it is resolved. {alert['message']}",
            "severity": alert["severity"],
            "alert_id": alert["id"],
            "evidence": alert.get("evidence", []),
        }
        for alert in alerts
        if alert.get("severity") == BLOCKING_SEVERITY
    ]


def check_authorization(connection: Connection, request: ProposedAction) -> dict[str, Any]:
    """The check of an ITMO identifier, or of a programme serial (every ITMO block
    resting on those units)."""
    if request.programme is None:
        try:
            return _check_block(connection, request, parse_itmo(request.identifier))
        except IdentifierError:
            programme = infer_programme(request.identifier)
            if programme is None:
                raise
    else:
        programme = request.programme
    return _check_units(connection, request, programme)


def _check_units(connection: Connection, request: ProposedAction, programme: str) -> dict[str, Any]:
    units = programme_units(programme, request.identifier)
    side = {
        "programme": programme,
        "units": request.identifier,
        "statuses": statuses_on(connection, units),
    }
    blocks = sorted(
        {block_text(b._asdict()) for b in programme_rules.resting_on(connection, units)}
    )
    answers = [
        _check_block(
            connection, replace(request, identifier=text, programme=None), parse_itmo(text)
        )
        for text in blocks
    ]
    if not answers:
        when = request.date or dt.datetime.now(dt.UTC).date()
        return {
            "decision": "unknown",
            "identifier": request.identifier,
            **_proposed(request, when),
            "reasons": [
                {
                    "code": NO_BLOCK_ON_UNITS,
                    "outcome": "unknown",
                    "message": f"No ITMO block in the index rests on {programme} units "
                    f"{request.identifier}.",
                }
            ],
            "authorization": None,
            "authorized_quantity": None,
            "quantity_first_transferred": None,
            "quantity_available": None,
            "alerts": [],
            "itmo_blocks": [],
            "programme": side,
        }
    answer = dict(answers[0])
    if len(answers) > 1:
        # Several blocks rest on the units: the worst decision, every block's reasons.
        answer["decision"] = max((a["decision"] for a in answers), key=_DECISION_ORDER.__getitem__)
        answer["reasons"] = [
            {**reason, "message": f"{a['identifier']}: {reason['message']}"}
            for a in answers
            for reason in a["reasons"]
        ]
        answer["alerts"] = [alert for a in answers for alert in a["alerts"]]
    answer["identifier"] = request.identifier
    answer["itmo_blocks"] = blocks
    answer["programme"] = side
    return answer


def _programme(
    connection: Connection, issuances: list[BlockRecord]
) -> tuple[list[Finding], dict[str, Any] | None]:
    """The programme rules' findings on the block's issuances (DC15, DC16), and what the
    programme reports about the units they rest on (None: they rest on none): the
    statuses on each issuance's units read once for both."""
    resting = [b for b in issuances if b.underlying_registry_id and b.first_unit_id]
    if not resting:
        return [], None
    findings: list[Finding] = []
    statuses: list[dict[str, Any]] = []
    for block in resting:
        units = units_of(block)
        rows = status_rows_meeting(connection, units)
        findings += programme_rules.on_statuses(block, [status_record(row) for row in rows])
        statuses += statuses_of_rows(units, rows)
    first = resting[0]
    side = {
        "programme": units_of(first).programme,
        "units": f"{first.first_unit_id} .. {first.last_unit_id or first.first_unit_id}",
        "statuses": statuses,
    }
    return findings, side


def _proposed(request: ProposedAction, when: dt.date) -> dict[str, Any]:
    """The proposed action as every answer repeats it."""
    return {
        "action_type": request.proposed_type,
        "purpose": request.purpose,
        "using_party_id": request.using_party_id,
        "using_entity_id": request.using_entity_id,
        "acquiring_party_id": request.acquiring_party_id,
        "date": when,
    }


def _check_block(
    connection: Connection, request: ProposedAction, block: ITMOBlock
) -> dict[str, Any]:
    when = request.date or dt.datetime.now(dt.UTC).date()
    check_proposal(request, block, when)
    ca, registry = block.cooperative_approach_id, block.party_registry_id
    found = query.intersecting(connection, ca, registry, block.first_id, block.last_id)
    reasons: list[dict[str, Any]] = []
    uncovered = [
        s for s in derive_segments(block.first_id, block.last_id, found) if s.state == "unknown"
    ]
    if uncovered:
        spans = ", ".join(f"{s.first_id}-{s.last_id}" for s in uncovered[:5])
        reasons.append(
            {
                "code": NOT_IN_INDEX,
                "outcome": "unknown",
                "message": f"No registry in the index reports serials {spans} of {block.text()}.",
            }
        )
    authorization_id: str | None = request.authorization_id
    if not uncovered:
        authorization_id, cannot = _authorization_named(request, found)
        if cannot is not None:
            reasons.append(cannot)
    alerts = unresolved_touching(connection, ca, registry, block.first_id, block.last_id)
    issuances = [
        block_record(item["record"], item["registry"], item["record_id"])
        for item in found
        if item["record_type"] == "action" and item["record"].get("action_type") == "Issuance"
    ]
    programme_findings, programme_side = _programme(connection, issuances)
    answer: dict[str, Any] = {
        "identifier": block.text(),
        **_proposed(request, when),
        "authorization": None,
        "authorized_quantity": None,
        "quantity_first_transferred": None,
        "quantity_available": None,
        "alerts": alerts,
        "itmo_blocks": [block.text()],
        "programme": programme_side,
    }
    blocking = _unresolved_discrepancies(alerts)
    # What the programme says about the underlying units decides beside the rules on
    # the action itself (DC15, DC16 on the block's issuance).
    blocking += [
        {
            "code": finding.rule,
            "outcome": "failed",
            "message": finding.message,
            "severity": finding.severity,
            "evidence": finding.evidence_dicts(),
        }
        for finding in programme_findings
    ]
    if reasons:
        # The index cannot say whether the rules pass; an unresolved discrepancy denies.
        decision = "denied" if blocking else "unknown"
        return {**answer, "decision": decision, "reasons": [*blocking, *reasons]}

    action = hypothetical_action(request, block, when, authorization_id)
    evaluation = evaluate(connection, action, as_of=when)
    findings = evaluation.findings
    failed = {finding.rule for finding in findings}
    reasons += blocking
    for finding in findings:
        reasons.append(
            {
                "code": finding.rule,
                "outcome": "failed",
                "message": finding.message,
                "severity": finding.severity,
                "evidence": [
                    e for e in finding.evidence_dicts() if e["record_id"] != action["action_id"]
                ],
            }
        )
    for code in judged_rules(request.proposed_type):
        if code not in failed:
            reasons.append({"code": code, "outcome": "passed", "message": PASSED[code]})
    if answer["programme"] is not None:
        flagged = {finding.rule for finding in programme_findings}
        for rule in PROGRAMME_RULES:
            if rule.code not in flagged:
                message = rule.passed or f"No {rule.info.name} was found."
                reasons.append({"code": rule.code, "outcome": "passed", "message": message})
    if evaluation.authorization is not None:
        answer.update(_quantities(authorization_status(connection, evaluation.authorization)))
    denied = bool(failed or blocking)
    return {**answer, "decision": "denied" if denied else "allowed", "reasons": reasons}


def _quantities(status: dict[str, Any]) -> dict[str, Any]:
    """The authorization relied on and how much of it is left to first transfer."""
    return {
        "authorization": status.get("authorization"),
        "authorized_quantity": status.get("authorized_quantity"),
        "quantity_first_transferred": status.get("first_transferred"),
        "quantity_available": status.get("remaining"),
    }
