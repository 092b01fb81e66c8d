"""The tables of double-counting detection, alerts, feeds and webhooks.

- `alert`: one row per alert identity (its fingerprint: rule plus evidence identities,
  RULES.md), carrying exactly the RULES.md fields plus a few internal columns that let
  the checks reconcile a part of the index without reading every alert.
- `alert_event`: every change of an alert (opened, resolved, reopened, acknowledged),
  in order; its `seq` is the cursor of the JSON feed, the Atom feed and the SSE stream.
- `detection_state`: the watermark of the last check (a `record_version` id), the
  grace cutoff it used and the Parties it counted as synced, so the next check knows
  what changed since.
- `webhook_subscription`, `webhook_delivery` (the outbox: one row per event and
  subscription, written in the same transaction as the event) and `webhook_attempt`
  (the delivery log: one row per POST tried).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from metareg.db.tables.approaches import APPROACH_ID_LENGTH
from metareg.db.types import BigId, Json, Serial, UtcDateTime


class Alert(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("fingerprint", name="uq_alert_fingerprint"),
        Index("ix_alert_rule_status", "rule", "status"),
        Index("ix_alert_block", "cooperative_approach_id", "party_registry_id", "first_id"),
        Index("ix_alert_scope", "rule", "cooperative_approach_id", "scope"),
    )

    id: str = Field(primary_key=True, max_length=16)
    fingerprint: str = Field(max_length=64)
    rule: str = Field(max_length=8)
    name: str = Field(max_length=40)
    severity: str = Field(max_length=12)
    status: str = Field(max_length=16)  # open | acknowledged | resolved
    cooperative_approach_id: str | None = Field(default=None, max_length=APPROACH_ID_LENGTH)
    party_registry_id: str | None = Field(default=None, max_length=16)
    first_id: int | None = Field(default=None, sa_type=Serial, nullable=True)
    last_id: int | None = Field(default=None, sa_type=Serial, nullable=True)
    # The vintage and first transferring Party of its range (RULES.md; with the range
    # they give the alert's `identifier`, the ITMO text form).
    vintage: int | None = Field(default=None, nullable=True)
    first_transferring_party_id: str | None = Field(default=None, max_length=3)
    registries: list[str] = Field(sa_type=Json)
    evidence: list[dict[str, str]] = Field(sa_type=Json)
    message: str = Field(sa_column=Column(Text, nullable=False))
    first_seen: datetime = Field(sa_type=UtcDateTime)
    last_seen: datetime = Field(sa_type=UtcDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Internal (not RULES.md fields, never in the alert object):
    # `scope`: what part of the index a check must re-read to re-judge this alert
    # ("" for block rules, "unit:<registry>" for DC03, "auth:<id>" for DC07-DC09, DC13, DC14,
    # "registry:<id>" for SY codes); `registry_keys`: "|A|B|" for portable filtering.
    scope: str = Field(default="", max_length=300)
    registry_keys: str = Field(default="", max_length=400)
    details: dict[str, Any] | None = Field(default=None, sa_type=Json)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, sa_column=Column(Text))


class AlertEvent(SQLModel, table=True):
    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_alert", "alert_id", "seq"),)

    seq: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    alert_id: str = Field(max_length=16)
    kind: str = Field(max_length=16)  # opened | resolved | reopened | acknowledged
    at: datetime = Field(sa_type=UtcDateTime)
    # {"alert": the alert object as it was after the change, "note"/"by" for acks}
    payload: dict[str, Any] = Field(sa_type=Json)


class DetectionState(SQLModel, table=True):
    __tablename__ = "detection_state"

    name: str = Field(primary_key=True, max_length=40)
    watermark: int = Field(default=0, sa_type=Serial)
    cutoff: date | None = None
    grace_days: int = 30
    synced_registries: list[str] = Field(default_factory=list, sa_type=Json)
    # Each registry's `acts_for` as the last check judged by it: an incremental check
    # re-judges the authorizations of a registry whose list changed since.
    acts_for: dict[str, list[str]] | None = Field(default=None, sa_type=Json)
    checked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: str = Field(primary_key=True, max_length=64)  # its name
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=500)
    rules: list[str] | None = Field(default=None, sa_type=Json)
    severities: list[str] | None = Field(default=None, sa_type=Json)
    cooperative_approach_ids: list[str] | None = Field(default=None, sa_type=Json)
    registries: list[str] | None = Field(default=None, sa_type=Json)
    allow_private: bool = False
    active: bool = True
    origin: str = Field(default="cli", max_length=16)  # config | cli
    created_at: datetime = Field(sa_type=UtcDateTime)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("delivery_id", name="uq_webhook_delivery_id"),
        UniqueConstraint("subscription_id", "event_seq", name="uq_webhook_delivery_event"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    delivery_id: str = Field(max_length=36)
    subscription_id: str = Field(max_length=64)
    event_seq: int = Field(sa_type=Serial)
    status: str = Field(default="pending", max_length=12)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime)
    created_at: datetime = Field(sa_type=UtcDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    delivery_id: str = Field(max_length=36)
    attempted_at: datetime = Field(sa_type=UtcDateTime)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    duration_ms: float = 0.0
