"""The one place where the sync side calls the alert store and the detection checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from metareg.alerts.operational import raise_operational, resolve_operational
from metareg.checks.runner import run_checks

SY01 = "SY01"  # registry-unreachable
SY02 = "SY02"  # reconciliation-mismatch
SY03 = "SY03"  # records-quarantined


def raise_alert(
    connection: Connection,
    code: str,
    registry_id: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Raise (or refresh) operational alert `code` for a registry."""
    raise_operational(connection, code, registry_id, message, details=details, now=now)
    return True


def resolve_alert(
    connection: Connection, code: str, registry_id: str, *, now: datetime | None = None
) -> bool:
    resolve_operational(connection, code, registry_id, now=now)
    return True


def run_detection(engine: Engine) -> Any:
    """The incremental double-counting checks after a sync that changed the index."""
    return run_checks(engine, full=False)
