"""What a person reading alerts asks, answered once for the dashboard (and any other
reader): one alert with its evidence records side by side, its history of events and
the block it names; alerts in a chosen order; counts of open alerts by rule and by
registry; and when each conflict happened (the date of its conflicting actions, not
when metareg first saw it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from metareg.alerts.event_rows import event_dict, events_table
from metareg.alerts.store import alerts_table
from metareg.oversight import itmos
from metareg.oversight.alerts import alert_with_acknowledgement

# Most severe first (RULES.md's severities).
SEVERITIES = ("critical", "high", "warning", "low")
_WEIGHT = {severity: len(SEVERITIES) - n for n, severity in enumerate(SEVERITIES)}

# Sort key -> (what to compare, the direction a reader expects first: True = descending).
SORTS: dict[str, tuple[Any, bool]] = {
    "severity": (lambda a: _WEIGHT.get(a.get("severity") or "", 0), True),
    "last_seen": (lambda a: a.get("last_seen") or "", True),
    "first_seen": (lambda a: a.get("first_seen") or "", True),
    "rule": (lambda a: a.get("rule") or "", False),
    "status": (lambda a: ("open", "acknowledged", "resolved").index(a["status"]), False),
}
DEFAULT_SORT = "severity"
# Identities looked up per statement (keeps the IN lists well under SQLite's limits).
CHUNK = 400


def sort_alerts(
    alerts: Sequence[dict[str, Any]], sort: str = DEFAULT_SORT, order: str | None = None
) -> list[dict[str, Any]]:
    """Alerts by `sort` (a key of `SORTS`), then most recently seen first. `order` is
    "asc" or "desc"; None takes the key's natural direction (severity: most severe
    first; dates: newest first; rule and status: A to Z, open first)."""
    key, natural = SORTS.get(sort, SORTS[DEFAULT_SORT])
    descending = natural if order not in ("asc", "desc") else order == "desc"
    by_recency = sorted(alerts, key=lambda a: (a.get("last_seen") or "", a["id"]), reverse=True)
    return sorted(by_recency, key=key, reverse=descending)


def alert_events(connection: Connection, alert_id: str) -> list[dict[str, Any]]:
    """Every event of one alert (opened, acknowledged, resolved, reopened), oldest first."""
    rows = connection.execute(
        select(events_table).where(events_table.c.alert_id == alert_id).order_by(events_table.c.seq)
    )
    return [event_dict(row) for row in rows]


def _latest_versions(
    connection: Connection, identities: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    wanted = list(dict.fromkeys(identities))
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for start in range(0, len(wanted), CHUNK):
        found.update(itmos.histories(connection, wanted[start : start + CHUNK]))
    return found


def evidence_records(connection: Connection, alert: dict[str, Any]) -> list[dict[str, Any]]:
    """Each evidence entry of the alert with the record as its registry last stated it
    (None when the index never held it) and how many versions it went through."""
    identities = [(e["registry"], e["record_type"], e["record_id"]) for e in alert["evidence"]]
    versions = _latest_versions(connection, identities)
    out = []
    for registry, record_type, record_id in identities:
        history = versions.get((registry, record_type, record_id)) or []
        last = history[-1] if history else None
        stated = next((v["record"] for v in reversed(history) if v["record"]), None)
        out.append(
            {
                "registry": registry,
                "record_type": record_type,
                "record_id": record_id,
                "record": stated,
                "withdrawn": bool(last and last["change"] == "withdrawn"),
                "versions": len(history),
                "received_at": last["received_at"] if last else None,
                "source": last["source"] if last else None,
            }
        )
    return out


def _record_date(record: dict[str, Any] | None) -> date | None:
    if not record:
        return None
    for name in ("action_date", "as_of", "authorization_date"):
        value = record.get(name)
        if value:
            return date.fromisoformat(str(value)[:10])
    return None


def _conflict_date(records: Sequence[tuple[str, dict[str, Any] | None]]) -> date | None:
    """The day the conflict came about: the latest of its conflicting actions (an
    alert without actions, such as two holdings or two authorizations: its latest
    record's date)."""
    actions = [d for kind, r in records if kind == "action" and (d := _record_date(r))]
    if actions:
        return max(actions)
    others = [d for _, r in records if (d := _record_date(r))]
    return max(others) if others else None


def conflict_dates(
    connection: Connection, alerts: Sequence[dict[str, Any]]
) -> dict[str, date | None]:
    """alert id -> the date of its conflicting actions (see `_conflict_date`)."""
    identities = [
        (e["registry"], e["record_type"], e["record_id"]) for a in alerts for e in a["evidence"]
    ]
    versions = _latest_versions(connection, identities)

    def stated(identity: tuple[str, str, str]) -> dict[str, Any] | None:
        history = versions.get(identity) or []
        return next((v["record"] for v in reversed(history) if v["record"]), None)

    return {
        alert["id"]: _conflict_date(
            [
                (e["record_type"], stated((e["registry"], e["record_type"], e["record_id"])))
                for e in alert["evidence"]
            ]
        )
        for alert in alerts
    }


def open_alert_counts(connection: Connection) -> dict[str, dict[str, dict[str, int]]]:
    """Open alerts counted by rule and by registry (each registry an alert involves,
    the originating one included), each split by severity:
    {"by_rule": {rule: {severity: n}}, "by_registry": {registry: {severity: n}}}."""
    rows = connection.execute(
        select(
            alerts_table.c.rule,
            alerts_table.c.severity,
            alerts_table.c.registry_keys,
            func.count(),
        )
        .where(alerts_table.c.status == "open")
        .group_by(alerts_table.c.rule, alerts_table.c.severity, alerts_table.c.registry_keys)
    )
    by_rule: dict[str, dict[str, int]] = {}
    by_registry: dict[str, dict[str, int]] = {}
    for rule, severity, keys, count in rows:
        bucket = by_rule.setdefault(rule, {})
        bucket[severity] = bucket.get(severity, 0) + count
        for registry in filter(None, (keys or "").split("|")):
            bucket = by_registry.setdefault(registry, {})
            bucket[severity] = bucket.get(severity, 0) + count
    return {
        "by_rule": dict(sorted(by_rule.items())),
        "by_registry": dict(sorted(by_registry.items())),
    }


def describe_alert(connection: Connection, alert_id: str) -> dict[str, Any] | None:
    """One alert for its page: the alert and its acknowledgement, its evidence records,
    its events, when its conflict happened, and the block its range names (None when
    it names none, or nothing in the index covers it). None: no such alert."""
    alert = alert_with_acknowledgement(connection, alert_id)
    if alert is None:
        return None
    evidence = evidence_records(connection, alert)
    block = None
    identifier = alert.get("identifier")
    ca, registry = alert.get("cooperative_approach_id"), alert.get("party_registry_id")
    first, last = alert.get("first_id"), alert.get("last_id")
    if not identifier and ca and registry and first is not None and last is not None:
        identifier = itmos.identifier_of_range(connection, ca, registry, first, last)
    if identifier:
        try:
            block = itmos.describe_itmo(connection, identifier)
        except (itmos.NotInIndex, ValueError):
            block = None
    return {
        "alert": alert,
        "evidence": evidence,
        "events": alert_events(connection, alert_id),
        "conflict_date": _conflict_date([(e["record_type"], e["record"]) for e in evidence]),
        "identifier": identifier,
        "block": block,
    }
