"""The one place where the sync side calls the alert store and the detection checks.

Engineer A's `metareg.alerts.operational` (SY01-SY03) and `metareg.detection.run_checks`
are imported lazily: while either is missing the call is skipped and logged (once per
process), never faked, so syncing keeps working and the gap is visible in the logs.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from metareg import log

SY01 = "SY01"  # registry-unreachable
SY02 = "SY02"  # reconciliation-mismatch
SY03 = "SY03"  # records-quarantined

_log = log.get_logger("metareg.sync.alerts")
_missing_logged: set[str] = set()


def _function(module: str, name: str) -> Any | None:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        if f"{module}.{name}" not in _missing_logged:
            _missing_logged.add(f"{module}.{name}")
            _log.warning("not available yet; skipped", function=f"{module}.{name}")
        return None


def raise_alert(
    connection: Connection,
    code: str,
    registry_id: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Raise (or refresh) operational alert `code` for a registry; False when unavailable."""
    function = _function("metareg.alerts.operational", "raise_operational")
    if function is None:
        return False
    function(connection, code, registry_id, message, details=details, now=now)
    return True


def resolve_alert(
    connection: Connection, code: str, registry_id: str, *, now: datetime | None = None
) -> bool:
    function = _function("metareg.alerts.operational", "resolve_operational")
    if function is None:
        return False
    function(connection, code, registry_id, now=now)
    return True


def run_detection(engine: Engine) -> Any | None:
    """The incremental double-counting checks after a sync that changed the index."""
    function = _function("metareg.detection", "run_checks")
    if function is None:
        return None
    return function(engine, full=False)
