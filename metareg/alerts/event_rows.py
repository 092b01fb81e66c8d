"""An alert event row and its shape in the feeds: below both the event log
(`events`) and the webhook deliveries that send its rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from metareg.db.tables.alerts import AlertEvent

events_table = AlertEvent


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat().replace("+00:00", "Z")


def event_dict(row: Any) -> dict[str, Any]:
    """One event as the feeds show it: its cursor, what happened, when, to which alert."""
    payload = dict(row.payload)
    event = {
        "seq": row.seq,
        "cursor": str(row.seq),
        "event": row.kind,
        "at": _iso(row.at),
        "alert": payload.pop("alert"),
    }
    event.update(payload)  # an acknowledgement's note and author
    return event
