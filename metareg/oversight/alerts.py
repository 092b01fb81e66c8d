"""Alerts as the read side shows them: list, read, count, acknowledge, and the feeds.

The alert store (`metareg.alerts`) keeps alerts and their events; this module is what
the API, the dashboard and the CLI call to read them, so each question (an alert with
its acknowledgement, the open alerts on a block, the rule codes naming a record) is
answered once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from metareg.alerts import store
from metareg.alerts.events import events_page, latest_seq
from metareg.alerts.feeds import ACCESS_ENDED_FRAME, atom_feed, sse_events
from metareg.alerts.store import STATUSES, UNRESOLVED, AlertError, count_alerts, list_alerts
from metareg.findings import CATALOGUE

__all__ = [
    "ACCESS_ENDED_FRAME",
    "RULE_CODES",
    "STATUSES",
    "AlertError",
    "atom_feed",
    "count_alerts",
    "events_page",
    "latest_seq",
    "list_alerts",
    "sse_events",
]

RULE_CODES = tuple(CATALOGUE)  # every rule an alert can name, detection and operational
PAGE = 500


class NoSuchAlert(AlertError):
    """No alert has this id."""


class AlertResolved(AlertError):
    """The alert is resolved: there is nothing left to acknowledge."""


def alert_with_acknowledgement(connection: Connection, alert_id: str) -> dict[str, Any] | None:
    """The alert and who acknowledged it, when, with what note (None: not acknowledged)."""
    alert = store.get_alert(connection, alert_id)
    if alert is None:
        return None
    return {**alert, "acknowledgement": store.get_acknowledgement(connection, alert_id)}


def alerts_with_acknowledgements(connection: Connection, **filters: Any) -> list[dict[str, Any]]:
    """`list_alerts(**filters)`, each acknowledged alert with its acknowledgement."""
    found = list_alerts(connection, **filters)
    for alert in found:
        if alert["status"] == "acknowledged":
            alert["acknowledgement"] = store.get_acknowledgement(connection, alert["id"])
    return found


def acknowledge(connection: Connection, alert_id: str, note: str, by: str | None) -> dict[str, Any]:
    """Acknowledge an open alert (in the caller's transaction). Raises `NoSuchAlert`,
    `AlertResolved`, or `AlertError` for a note that says nothing."""
    alert = store.get_alert(connection, alert_id)
    if alert is None:
        raise NoSuchAlert(f"no alert with id {alert_id!r}")
    if alert["status"] == "resolved":
        raise AlertResolved(f"alert {alert_id} is resolved; there is nothing to acknowledge")
    return store.acknowledge(connection, alert_id, note, by=by)


def unresolved_touching(
    connection: Connection, ca: str, registry: str, first_id: int, last_id: int
) -> list[dict[str, Any]]:
    """The open or acknowledged alerts on serials first_id-last_id of (ca, registry)."""
    return store.alerts_touching(connection, ca, registry, first_id, last_id, status="open")


def open_by_severity(connection: Connection) -> dict[str, int]:
    """How many alerts are open, per severity (what the public may see)."""
    counts = count_alerts(connection, status="open")
    return {str(severity): int(n) for severity, n in counts["by_severity"].items()}


def rule_codes_by_record(
    connection: Connection, registries: Iterable[str]
) -> dict[tuple[str, str, str], list[str]]:
    """For the AEF's "Result of the consistency checks": (registry, record_type, id) ->
    the rule codes of the unresolved alerts whose evidence names that record."""
    codes: dict[tuple[str, str, str], list[str]] = {}
    for registry in registries:
        for status in UNRESOLVED:
            after: str | None = None
            while True:
                page = list_alerts(
                    connection, status=status, registry=registry, limit=PAGE, after_id=after
                )
                for alert in page:
                    for item in alert.get("evidence", []):
                        key = (item["registry"], item["record_type"], item["record_id"])
                        codes.setdefault(key, []).append(alert["rule"])
                if len(page) < PAGE:
                    break
                after = page[-1]["id"]
    return codes
