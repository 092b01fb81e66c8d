"""One action judged against the current index, with the rules' own predicates.

The API asks "may these units be used towards an NDC / OIMP?" by building the
hypothetical `Use` and calling `evaluate_action`: the answer comes from the same
functions as the set-based checks (DC05-DC09 and the other rules that can concern a
single action), never from a copy of them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from metareg.detection.passes import authorization as authpass
from metareg.detection.read import authorizations as onekey
from metareg.detection.read import blocks as loading
from metareg.detection.read import cached_totals as firsttotals
from metareg.detection.rules import (
    dc01_double_issuance,
    dc02_identifier_conflict,
    dc03_underlying_unit_reuse,
    dc05_double_use,
    dc06_activity_after_use,
    dc09_authorization_exceeded,
    dc12_quantity_mismatch,
)
from metareg.detection.rules.terms import AuthRec, Rec, choose_current, rec_from_record
from metareg.findings import Finding
from metareg.index import query

PROPOSED = "(proposed)"
REQUIRED = ("action_type", "cooperative_approach_id", "party_registry_id", "first_id", "last_id")
PAIR_RULES = (
    dc01_double_issuance,
    dc02_identifier_conflict,
    dc05_double_use,
    dc06_activity_after_use,
)


def _as_rec(action: dict[str, Any], as_of: date) -> Rec:
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
    return rec_from_record(record, registry, str(action.get("action_id") or PROPOSED))


def evaluate_action(
    connection: Connection, action: dict[str, Any], *, as_of: date
) -> list[Finding]:
    """Findings (rule, name, severity, message, evidence, ...) that `action` would
    raise against the current index, for every rule that applies to one action:
    DC01, DC02, DC03, DC05, DC06 (against the overlapping current records), DC07, DC08,
    DC09 (against its authorization and the first transfers already under it) and
    DC12. DC04, DC10 and DC11 judge holdings or the passing of time, not one action.

    `action` uses the canonical field names; `registry` (the reporting registry) and
    `action_id` are optional: when they name a stored action, that record is the
    action itself (a correction of it) and is not compared with it. A missing
    `action_date` is `as_of`; a missing `vintage` is not compared.
    """
    record = _as_rec(action, as_of)
    if "vintage" not in action:
        record = record._replace(vintage=None)  # type: ignore[arg-type]
    findings: list[Finding] = []
    own = dc12_quantity_mismatch.check(record)
    if own is not None:
        findings.append(own)
    others = [
        other
        for other in loading.blocks_meeting(
            connection,
            record.cooperative_approach_id,
            record.party_registry_id,
            record.first_id,
            record.last_id,
            loading.max_span(connection, record.cooperative_approach_id, record.party_registry_id),
        )
        if other.identity != record.identity
    ]
    for other in others:
        for rule in PAIR_RULES:
            finding = rule.check(record, other)
            if finding is not None:
                findings.append(finding)
    if dc03_underlying_unit_reuse.judged(record):
        assert record.underlying_registry_id is not None
        issuances = [
            r
            for r in loading.issuances(connection, [record.underlying_registry_id])
            if r.identity != record.identity
        ]
        findings += [
            f
            for f in dc03_underlying_unit_reuse.check_issuances([record, *issuances])
            if record.identity in f.evidence
        ]
    findings += _authorization_findings(connection, record)
    return findings


def _authorization_findings(connection: Connection, record: Rec) -> list[Finding]:
    ca, authorization_id = record.cooperative_approach_id, record.authorization_id
    current = None
    if authorization_id:
        current = choose_current(onekey.authorization_versions(connection, ca, authorization_id))
    running = None
    if (
        current is not None
        and record.action_type == "First transfer"
        and current.authorized_quantity is not None
    ):
        running = _running_total(connection, current, record)
        if running <= current.authorized_quantity:
            running = None
    return authpass.judge_action(record, current, running)


def _running_total(connection: Connection, authorization: AuthRec, record: Rec) -> float:
    """The units first transferred under the authorization up to and including
    `record` in `transfer_order` (as `check_authorization` would count them with the
    record added): the SQL sum of those dated earlier, plus that day's, in order."""
    ca, authorization_id = authorization.cooperative_approach_id, authorization.authorization_id
    day = record.action_date or ""
    try:
        date.fromisoformat(day or "2000-01-01")
    except ValueError:  # not a date the database can compare: count in Python, as text
        under = [
            r
            for r in loading.actions_naming(connection, ca, authorization_id)
            if r.identity != record.identity
        ]
        totals = dc09_authorization_exceeded.over_quantity(authorization, [*under, record])
        return totals.get(record, 0.0)
    total = 0.0 + loading.first_transferred(
        connection, ca, authorization_id, day, excluding=record.identity
    )
    same_day = [
        r
        for r in (
            loading.first_transfers_from(connection, ca, authorization_id, day, that_day=True)
            if day
            else []
        )
        if r.identity != record.identity
    ]
    place = dc09_authorization_exceeded.transfer_order(record)
    for other in sorted(same_day, key=dc09_authorization_exceeded.transfer_order):
        if dc09_authorization_exceeded.transfer_order(other) < place:
            total += other.quantity
    return total + record.quantity


def authorization_status(
    connection: Connection, cooperative_approach_id: str, authorization_id: str
) -> dict[str, Any] | None:
    """The current authorization (highest version across registries) and the units
    first transferred under it so far, or None when no registry reports it."""
    current = choose_current(
        onekey.authorization_versions(connection, cooperative_approach_id, authorization_id)
    )
    if current is None:
        return None
    record = next(
        item["record"]
        for item in query.authorizations(connection, cooperative_approach_id, [authorization_id])
        if (item["registry"], item["record_id"]) == (current.registry_id, current.uid)
    )
    # Remembered while the index is unchanged: the sum is most of the check's time.
    first_transferred = firsttotals.first_transferred(
        connection, cooperative_approach_id, authorization_id
    )
    authorized = current.authorized_quantity
    return {
        "registry": current.registry_id,
        "authorization": record,
        "first_transferred": first_transferred,
        "authorized_quantity": authorized,
        "remaining": None if authorized is None else authorized - first_transferred,
        "exceeded": authorized is not None and first_transferred > authorized,
    }
