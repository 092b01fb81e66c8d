"""Operational alerts (RULES.md SY01-SY03): opening, refreshing and resolving them.

The checks judge them from what the sync side committed (`metareg.checks.operational`).

They live in the same store and feeds as the double-counting alerts so oversight
sees when the index itself cannot be trusted. There is one alert per (code,
registry): its fingerprint is the code plus the registry, so raising it again
refreshes the open alert (`last_seen`, message, details) and raising it after it
was resolved reopens the same alert. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from metareg.alerts.events import record_events, serialize_writers
from metareg.alerts.store import alert_id, alerts_table, get_alert, registry_keys
from metareg.db.upsert import upsert
from metareg.findings import CATALOGUE, fingerprint

OPERATIONAL_CODES = ("SY01", "SY02", "SY03", "SY04")


def _check_code(code: str) -> None:
    if code not in OPERATIONAL_CODES:
        raise ValueError(
            f"{code!r} is not an operational alert code ({', '.join(OPERATIONAL_CODES)})"
        )


def operational_fingerprint(code: str, registry_id: str) -> str:
    return fingerprint(code, [(registry_id, "registry", registry_id)])


def raise_operational(
    connection: Connection,
    code: str,
    registry_id: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Open (or refresh, or reopen) the `code` alert of `registry_id`."""
    _check_code(code)
    at = now or datetime.now(UTC)
    digest = operational_fingerprint(code, registry_id)
    current = connection.execute(
        select(alerts_table.c.status).where(alerts_table.c.fingerprint == digest)
    ).scalar()
    if current is None or current == "resolved":
        # An event will be written: take the event lock before the row (lock order).
        serialize_writers(connection)
    info = CATALOGUE[code]
    row = {
        "id": alert_id(digest),
        "fingerprint": digest,
        "rule": code,
        "name": info.name,
        "severity": info.severity,
        "status": "open",
        "cooperative_approach_id": None,
        "party_registry_id": None,
        "first_id": None,
        "last_id": None,
        "vintage": None,
        "first_transferring_party_id": None,
        "registries": [registry_id],
        "evidence": [
            {"registry": registry_id, "record_type": "registry", "record_id": registry_id}
        ],
        "message": message,
        "first_seen": at,
        "last_seen": at,
        "resolved_at": None,
        "scope": f"registry:{registry_id}",
        "registry_keys": registry_keys([registry_id], None),
        "details": details,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "note": None,
    }
    if current is None:
        upsert(connection, alerts_table, [row], key=("fingerprint",))
        kind: str | None = "opened"
    elif current == "resolved":
        reopen = (
            *("status", "resolved_at", "last_seen", "message", "details"),
            *("acknowledged_at", "acknowledged_by", "note"),
        )
        upsert(connection, alerts_table, [row], key=("fingerprint",), update=reopen)
        kind = "reopened"
    else:
        upsert(
            connection,
            alerts_table,
            [row],
            key=("fingerprint",),
            update=("last_seen", "message", "details"),
        )
        kind = None
    if kind is not None:
        alert = get_alert(connection, alert_id(digest))
        assert alert is not None
        record_events(connection, [(kind, alert, None)], at)


def resolve_operational(
    connection: Connection, code: str, registry_id: str, *, now: datetime | None = None
) -> None:
    """Resolve the `code` alert of `registry_id` if one is unresolved (else nothing)."""
    _check_code(code)
    at = now or datetime.now(UTC)
    identifier = alert_id(operational_fingerprint(code, registry_id))
    status = connection.execute(
        select(alerts_table.c.status).where(alerts_table.c.id == identifier)
    ).scalar()
    if status is None or status == "resolved":
        return  # nothing to resolve: no lock taken, nothing written
    serialize_writers(connection)
    result = connection.execute(
        update(alerts_table)
        .where(alerts_table.c.id == identifier, alerts_table.c.status != "resolved")
        .values(status="resolved", resolved_at=at)
    )
    if result.rowcount:
        alert = get_alert(connection, identifier)
        assert alert is not None
        record_events(connection, [("resolved", alert, None)], at)
