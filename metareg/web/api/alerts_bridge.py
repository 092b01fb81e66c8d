"""The API's one door to detection (engineer A's `metareg.alerts` / `metareg.detection`).

Imported lazily so the API still serves the index when detection is not installed;
every alert-backed answer then says so (503 for the alert routes, `None` for alert
counts in aggregates) instead of pretending there are no alerts.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from sqlalchemy import Connection

from metareg.web.problems import ApiProblem


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def function(module: str, name: str) -> Any | None:
    found = _module(module)
    return getattr(found, name, None) if found is not None else None


def required(module: str, name: str) -> Any:
    found = function(module, name)
    if found is None:
        raise ApiProblem(
            503,
            f"Detection is not installed in this deployment ({module}.{name} is missing).",
            kind="detection-unavailable",
        )
    return found


ALERTS = "metareg.alerts.store"
EVENTS = "metareg.alerts.events"
FEEDS = "metareg.alerts.feeds"
WEBHOOKS = "metareg.alerts.webhooks"
DETECTION = "metareg.detection.evaluate"


def open_alert_counts(connection: Connection) -> dict[str, int] | None:
    """Open alerts by severity, or None when detection is not installed."""
    count_alerts = function(ALERTS, "count_alerts")
    if count_alerts is None:
        return None
    counts = count_alerts(connection, status="open")
    return {str(key): int(value) for key, value in counts["by_severity"].items()}


def alerts_touching(
    connection: Connection, ca: str, registry: str, first: int, last: int
) -> list[dict[str, Any]] | None:
    touching = function(ALERTS, "alerts_touching")
    if touching is None:
        return None
    found: list[dict[str, Any]] = touching(connection, ca, registry, first, last, status="open")
    return found


UNRESOLVED = ("open", "acknowledged")
PAGE = 500


def rule_codes_by_record(
    connection: Connection, registries: Any
) -> dict[tuple[str, str, str], list[str]]:
    """For the AEF's "Result of the consistency checks": (registry, record_type, id) ->
    the rule codes of the unresolved alerts whose evidence names that record."""
    list_alerts = function(ALERTS, "list_alerts")
    codes: dict[tuple[str, str, str], list[str]] = {}
    if list_alerts is None:
        return codes
    for registry in registries:
        for status in UNRESOLVED:
            after: Any = None
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


def detection_installed() -> bool:
    return function(ALERTS, "list_alerts") is not None
