"""Alert events: every change of an alert, in one ordered log with a cursor.

The JSON feed, the Atom feed, the SSE stream and the webhooks all read this log.
Its `seq` is the cursor: a client that asks for "everything after N" never misses or
repeats an event. That holds only if events become visible in `seq` order, so event
writers are serialized: SQLite has one writer at a time anyway, on PostgreSQL a
transaction-scoped advisory lock is taken before the first event is numbered and
held until commit.

Webhook deliveries are written to the outbox in the same transaction as their
events, so an event is never committed without its pending deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from metareg.alerts.event_rows import event_dict, events_table
from metareg.db.locks import serialize_writers
from metareg.db.upsert import json_text, write_rows

__all__ = ["event_dict", "events_table", "record_events", "serialize_writers"]

EVENT_KINDS = ("opened", "resolved", "reopened", "acknowledged")
MAX_PAGE = 1_000
EVENT_COLUMNS = ("alert_id", "kind", "at", "payload")


# (kind, alert object, extra fields such as an acknowledgement's note, or None)
EventItem = tuple[str, dict[str, Any], dict[str, Any] | None]


def record_events(connection: Connection, items: Sequence[EventItem], at: datetime) -> None:
    """Append events (in the given order) and queue their webhook deliveries."""
    if not items:
        return
    serialize_writers(connection)
    before = connection.execute(select(func.max(events_table.c.seq))).scalar() or 0
    rows = []
    for kind, alert, extra in items:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown alert event {kind!r}")
        payload = {"alert": alert, **extra} if extra else {"alert": alert}
        rows.append((alert["id"], kind, at, json_text(payload)))
    # The payloads serialized once each (orjson), written in one bulk insert.
    write_rows(connection, events_table, EVENT_COLUMNS, rows, json_columns=("payload",))
    # The outbox reads events, not the other way round.
    from metareg.alerts.webhooks.outbox import enqueue
    from metareg.alerts.webhooks.subscriptions import active_subscriptions

    if not active_subscriptions(connection):
        return  # nobody to deliver to: the events are not read back
    appended = select(events_table).where(events_table.c.seq > before).order_by(events_table.c.seq)
    enqueue(connection, [event_dict(row) for row in connection.execute(appended)], at)


def events_page(connection: Connection, since: int | None, limit: int = 100) -> dict[str, Any]:
    """Events after cursor `since` (None: from the start), oldest first.

    Returns {"events": [...], "next": cursor to pass as `since` next time,
    "has_more": whether another page is ready now}. Following `next` visits every
    event exactly once.
    """
    if since is not None and since < 0:
        raise ValueError("since must be a cursor returned by the feed (0 or more)")
    limit = max(1, min(limit, MAX_PAGE))
    after = since or 0
    rows = connection.execute(
        select(events_table)
        .where(events_table.c.seq > after)
        .order_by(events_table.c.seq)
        .limit(limit + 1)
    ).all()
    events = [event_dict(row) for row in rows[:limit]]
    return {
        "events": events,
        "next": events[-1]["seq"] if events else after,
        "has_more": len(rows) > limit,
    }


def latest_seq(connection: Connection) -> int:
    return int(connection.execute(select(func.max(events_table.c.seq))).scalar() or 0)
