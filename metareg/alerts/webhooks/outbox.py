"""The outbox: queue a delivery per (event, matching subscription), in the event's
own transaction, so a committed event always has its pending deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from metareg.alerts.webhooks.subscriptions import active_subscriptions, wants
from metareg.db.tables.alerts import WebhookDelivery
from metareg.db.upsert import upsert

deliveries = WebhookDelivery


def enqueue(connection: Connection, events: Sequence[dict[str, Any]], at: datetime) -> int:
    if not events:
        return 0
    subscriptions = active_subscriptions(connection)
    if not subscriptions:
        return 0
    rows = [
        {
            "delivery_id": str(uuid.uuid4()),
            "subscription_id": subscription["id"],
            "event_seq": event["seq"],
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for event in events
        for subscription in subscriptions
        if wants(subscription, event["alert"])
    ]
    upsert(connection, deliveries, rows, key=("subscription_id", "event_seq"), update=())
    return len(rows)
