"""The authorization check: may these ITMOs be used for this purpose by this Party?

The check builds the action the request describes (a `Use` for NDC, a `Cancellation`
for OIMP, as the AEF records them) and hands it to detection's proposed-action
evaluation, which runs the rules' own decisions on it: the same code the checks run
over the index, not a copy. The authorization relied on is the one the units' first
transfer names (or the one the request names).

Decisions: `denied` when any rule finds a conflict; `unknown` when the index lacks
what the rules need (codes CK01-CK03 below); `allowed` otherwise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from metareg.detection.passes.proposed import (
    JUDGED_RULES,
    PASSED,
    authorization_status,
    evaluate_action,
)
from metareg.index import query
from metareg.index.state import derive_segments
from metareg.oversight.alerts import unresolved_touching
from metareg.records.identifiers import ITMOBlock, parse_itmo

# Why a check cannot decide (not rules of RULES.md: properties of the index's coverage).
NOT_IN_INDEX = "CK01"
NO_AUTHORIZATION = "CK02"
SEVERAL_AUTHORIZATIONS = "CK03"


@dataclass(frozen=True, slots=True)
class ProposedUse:
    """What the caller means to do: use (NDC) or cancel (OIMP) the units `identifier`
    names, for `using_party_id`, on `date` (None: today), under `authorization_id`
    (None: the one the units' first transfer names)."""

    identifier: str
    purpose: str  # NDC or OIMP
    using_party_id: str
    using_entity_id: str | None = None
    date: dt.date | None = None
    authorization_id: str | None = None


def hypothetical_action(
    request: ProposedUse, block: ITMOBlock, when: dt.date, auth: str | None
) -> dict[str, Any]:
    """The action the request describes, in canonical form (never stored)."""
    action: dict[str, Any] = {
        "record_type": "action",
        "action_id": f"check-{uuid.uuid4()}",
        "action_date": when.isoformat(),
        "action_type": "Use" if request.purpose == "NDC" else "Cancellation",
        "cooperative_approach_id": block.cooperative_approach_id,
        "party_registry_id": block.party_registry_id,
        "first_transferring_party_id": block.first_transferring_party_id,
        "first_id": block.first_id,
        "last_id": block.last_id,
        "vintage": block.vintage,
        "purpose": request.purpose,
        "using_party_id": request.using_party_id,
    }
    if auth is not None:
        action["authorization_id"] = auth
    if request.using_entity_id:
        action["using_entity_id"] = request.using_entity_id
    if request.purpose == "NDC":
        action["ndc_use_year"] = when.year
    return action


def _first_transfer_authorizations(found: list[dict[str, Any]]) -> set[str]:
    return {
        item["record"]["authorization_id"]
        for item in found
        if item["record_type"] == "action"
        and item["record"].get("action_type") == "First transfer"
        and item["record"].get("authorization_id")
    }


def check_authorization(connection: Connection, request: ProposedUse) -> dict[str, Any]:
    block = parse_itmo(request.identifier)
    when = request.date or dt.datetime.now(dt.UTC).date()
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
    authorization_id = request.authorization_id
    if authorization_id is None and not uncovered:
        named = sorted(_first_transfer_authorizations(found))
        if not named:
            reasons.append(
                {
                    "code": NO_AUTHORIZATION,
                    "outcome": "unknown",
                    "message": "No first transfer of these units naming an authorization is "
                    "in the index; name the authorization to check against.",
                }
            )
        elif len(named) > 1:
            reasons.append(
                {
                    "code": SEVERAL_AUTHORIZATIONS,
                    "outcome": "unknown",
                    "message": "These units were first transferred under several authorizations "
                    f"({', '.join(named)}); check each part separately or name one.",
                }
            )
        else:
            authorization_id = named[0]
    alerts = unresolved_touching(connection, ca, registry, block.first_id, block.last_id)
    answer: dict[str, Any] = {
        "identifier": block.text(),
        "purpose": request.purpose,
        "using_party_id": request.using_party_id,
        "using_entity_id": request.using_entity_id,
        "date": when,
        "authorization": None,
        "authorized_quantity": None,
        "quantity_first_transferred": None,
        "quantity_available": None,
        "alerts": alerts,
    }
    if reasons:
        return {**answer, "decision": "unknown", "reasons": reasons}

    action = hypothetical_action(request, block, when, authorization_id)
    findings = evaluate_action(connection, action, as_of=when)
    failed = {finding.rule for finding in findings}
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
    for code in JUDGED_RULES:
        if code not in failed:
            reasons.append({"code": code, "outcome": "passed", "message": PASSED[code]})
    status = authorization_status(connection, ca, authorization_id) if authorization_id else None
    if status is not None:
        answer.update(_quantities(status))
    return {**answer, "decision": "denied" if failed else "allowed", "reasons": reasons}


def _quantities(status: dict[str, Any]) -> dict[str, Any]:
    """The authorization relied on and how much of it is left to first transfer."""
    return {
        "authorization": status.get("authorization"),
        "authorized_quantity": status.get("authorized_quantity"),
        "quantity_first_transferred": status.get("first_transferred"),
        "quantity_available": status.get("remaining"),
    }
