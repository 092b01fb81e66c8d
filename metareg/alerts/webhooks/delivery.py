"""Delivering the outbox: POST each due delivery, log the attempt, retry with
exponential backoff for up to 24 hours.

At-least-once: a delivery is marked delivered only after the receiver answered 2xx,
and every state lives in the database (outbox row, attempt log), so a restart
resumes exactly where it stopped; a crash between the POST and the bookkeeping
means the receiver sees the delivery again, with the same delivery id (receivers
de-duplicate on it).

Each POST carries the event as JSON with its delivery id and a timestamp, and the
header `X-Metareg-Signature: t=<timestamp>,v1=<hex HMAC-SHA256(secret,
"<timestamp>.<body>")>` so the receiver can check origin and freshness.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, select, update

from metareg.alerts.event_rows import event_dict, events_table
from metareg.alerts.webhooks.policy import UrlNotAllowed, check_url
from metareg.alerts.webhooks.subscriptions import secret_of
from metareg.db.tables.alerts import WebhookAttempt, WebhookDelivery
from metareg.db.upsert import insert_many
from metareg.log import get_logger

SIGNATURE_HEADER = "X-Metareg-Signature"
DELIVERY_HEADER = "X-Metareg-Delivery"
EVENT_HEADER = "X-Metareg-Event"
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
BATCH = 200
TIMEOUT_SECONDS = 10.0
MAX_ERROR_TEXT = 500

deliveries = WebhookDelivery
attempts_table = WebhookAttempt
log = get_logger("metareg.webhooks")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str, body: bytes, header: str, *, tolerance_seconds: int = 300, now: float | None = None
) -> bool:
    """What a receiver does: the signature matches and the timestamp is fresh."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failures: 30 s, 1 min, 2 min, ... 1 h."""
    delay = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_RETRY)


def _body(delivery_id: str, timestamp: int, event: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"delivery_id": delivery_id, "timestamp": timestamp, "event": event},
        option=orjson.OPT_SORT_KEYS,
    )


def _due(engine: Engine, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Due deliveries in event order. A delivery waits while an earlier one of the same
    subscription is still waiting for its retry: each subscription gets its events in
    order, even after a long outage has spread their retry times apart."""
    earlier = deliveries.alias("earlier")
    waiting_before = (
        select(earlier.c.id)
        .where(
            earlier.c.subscription_id == deliveries.c.subscription_id,
            earlier.c.status == "pending",
            earlier.c.event_seq < deliveries.c.event_seq,
            earlier.c.next_attempt_at > now,
        )
        .exists()
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(deliveries)
            .where(
                deliveries.c.status == "pending",
                deliveries.c.next_attempt_at <= now,
                ~waiting_before,
            )
            .order_by(deliveries.c.event_seq, deliveries.c.id)
            .limit(limit)
        ).all()
        due = []
        for row in rows:
            event_row = connection.execute(
                select(events_table).where(events_table.c.seq == row.event_seq)
            ).first()
            due.append(
                {
                    "row": row._mapping,
                    "event": event_dict(event_row) if event_row else None,
                    "subscription": secret_of(connection, row.subscription_id),
                }
            )
        return due


def _attempt(
    client: httpx.Client, item: dict[str, Any], now: datetime
) -> tuple[int | None, str | None, bool, float]:
    """POST one delivery: (status code, error, retry-worthy, milliseconds)."""
    row, subscription, event = item["row"], item["subscription"], item["event"]
    if subscription is None or not subscription["active"]:
        return None, "the subscription was removed or deactivated", False, 0.0
    if event is None:
        return None, "the event no longer exists", False, 0.0
    try:
        check_url(subscription["url"], allow_private=subscription["allow_private"])
    except UrlNotAllowed as error:
        return None, f"target refused: {error}", False, 0.0
    timestamp = int(now.timestamp())
    body = _body(row["delivery_id"], timestamp, event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "metareg-webhooks/1",
        DELIVERY_HEADER: row["delivery_id"],
        EVENT_HEADER: f"alert.{event['event']}",
        SIGNATURE_HEADER: sign(subscription["secret"], timestamp, body),
    }
    started = time.perf_counter()
    try:
        response = client.post(subscription["url"], content=body, headers=headers)
    except httpx.HTTPError as error:
        elapsed = (time.perf_counter() - started) * 1000
        return None, f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT], True, elapsed
    elapsed = (time.perf_counter() - started) * 1000
    if 200 <= response.status_code < 300:
        return response.status_code, None, False, elapsed
    retry = response.status_code >= 500 or response.status_code in (408, 425, 429)
    return response.status_code, f"HTTP {response.status_code}", retry, elapsed


def deliver_due(
    engine: Engine,
    *,
    client: httpx.Client | None = None,
    now: datetime | None = None,
    limit: int = BATCH,
) -> int:
    """POST every delivery that is due; returns how many were delivered now.

    A failure is retried with exponential backoff (30 s doubling up to 1 h) until 24 h
    after the event, then the delivery is marked failed; a 4xx other than 408/425/429
    or a refused target fails at once. The scheduler calls this periodically.
    """
    at = now or datetime.now(UTC)
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    delivered = 0
    try:
        for item in _due(engine, at, limit):
            row = item["row"]
            status_code, error, retry, elapsed = _attempt(http, item, at)
            attempts = row["attempts"] + 1
            values: dict[str, Any] = {
                "attempts": attempts,
                "last_status_code": status_code,
                "last_error": error,
            }
            if error is None:
                values.update(status="delivered", delivered_at=at)
                delivered += 1
            else:
                deadline = _utc(row["created_at"]) + GIVE_UP_AFTER
                next_at = at + backoff(attempts)
                if not retry or at >= deadline:
                    values["status"] = "failed"
                else:
                    values["next_attempt_at"] = min(next_at, deadline)
                log.warning(
                    "webhook delivery failed",
                    delivery_id=row["delivery_id"],
                    subscription=row["subscription_id"],
                    attempts=attempts,
                    error=error,
                    gave_up=values.get("status") == "failed",
                )
            with engine.begin() as connection:
                insert_many(
                    connection,
                    attempts_table,
                    [
                        {
                            "delivery_id": row["delivery_id"],
                            "attempted_at": at,
                            "status_code": status_code,
                            "error": error,
                            "duration_ms": elapsed,
                        }
                    ],
                )
                connection.execute(
                    update(deliveries).where(deliveries.c.id == row["id"]).values(**values)
                )
    finally:
        if own_client:
            http.close()
    return delivered


def delivery_log(engine: Engine, delivery_id: str) -> list[dict[str, Any]]:
    """Every attempt of one delivery, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(attempts_table)
            .where(attempts_table.c.delivery_id == delivery_id)
            .order_by(attempts_table.c.id)
        )
        return [dict(row._mapping) for row in rows]


def deliveries_summary(engine: Engine) -> dict[str, int]:
    from sqlalchemy import func

    with engine.connect() as connection:
        rows = connection.execute(
            select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        )
        return {status: count for status, count in rows}
