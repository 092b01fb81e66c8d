"""The tables of double-counting detection, alerts, feeds and webhooks.

- `alert`: one row per alert identity (its fingerprint: rule plus evidence identities,
  RULES.md), carrying exactly the RULES.md fields plus a few internal columns that let
  the checks reconcile a part of the index without reading every alert.
- `alert_event`: every change of an alert (opened, resolved, reopened, acknowledged),
  in order; its `seq` is the cursor of the JSON feed, the Atom feed and the SSE stream.
- `detection_state`: the watermark of the last check (a `record_version` id), the
  grace cutoff it used and the Parties it counted as synced, so the next check knows
  what changed since; `detection_first_transfer_total`: DC09's total per authorization
  key as of that watermark.
- `webhook_subscription`, `webhook_delivery` (the outbox: one row per event and
  subscription, written in the same transaction as the event) and `webhook_attempt`
  (the delivery log: one row per POST tried).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from metareg.db.tables.approaches import APPROACH_ID_LENGTH
from metareg.db.tables.base import table
from metareg.db.types import BigId, Json, Serial, UtcDateTime

Alert = table(
    "alert",
    Column("id", String(16), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("rule", String(8), nullable=False),
    Column("name", String(40), nullable=False),
    Column("severity", String(12), nullable=False),
    Column("status", String(16), nullable=False),  # open | acknowledged | resolved
    Column("cooperative_approach_id", String(APPROACH_ID_LENGTH)),
    Column("party_registry_id", String(16)),
    Column("first_id", Serial),
    Column("last_id", Serial),
    # The vintage and first transferring Party of its range (RULES.md; with the range
    # they give the alert's `identifier`, the ITMO text form).
    Column("vintage", Integer),
    Column("first_transferring_party_id", String(3)),
    Column("registries", Json, nullable=False),
    Column("evidence", Json, nullable=False),
    Column("message", Text, nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    # Internal (not RULES.md fields, never in the alert object):
    # `scope`: what part of the index a check must re-read to re-judge this alert
    # ("" for block rules, "unit:<registry>" for DC03, "auth:<id>" for DC07-DC09, DC13, DC14,
    # "registry:<id>" for SY codes); `registry_keys`: "|A|B|" for portable filtering.
    Column("scope", String(300), nullable=False, default=""),
    Column("registry_keys", String(400), nullable=False, default=""),
    Column("details", Json),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", String(200)),
    Column("note", Text),
    UniqueConstraint("fingerprint", name="uq_alert_fingerprint"),
    Index("ix_alert_rule_status", "rule", "status"),
    Index("ix_alert_block", "cooperative_approach_id", "party_registry_id", "first_id"),
    Index("ix_alert_scope", "rule", "cooperative_approach_id", "scope"),
)

AlertEvent = table(
    "alert_event",
    Column("seq", BigId, primary_key=True),
    Column("alert_id", String(16), nullable=False),
    Column("kind", String(16), nullable=False),  # opened | resolved | reopened | acknowledged
    Column("at", UtcDateTime, nullable=False),
    # {"alert": the alert object as it was after the change, "note"/"by" for acks}
    Column("payload", Json, nullable=False),
    Index("ix_alert_event_alert", "alert_id", "seq"),
)

DetectionState = table(
    "detection_state",
    Column("name", String(40), primary_key=True),
    Column("watermark", Serial, nullable=False, default=0),
    Column("cutoff", Date),
    Column("grace_days", Integer, nullable=False, default=30),
    Column("synced_registries", Json, nullable=False, default=list),
    # Each registry's `acts_for` as the last check judged by it: an incremental check
    # re-judges the authorizations of a registry whose list changed since.
    Column("acts_for", Json),
    Column("checked_at", UtcDateTime),
)

# Per authorization key, the units first transferred under it (DC09's all-time total)
# as of a `record_version` id: what the last check knew, so the next incremental check
# continues it from the changed actions instead of summing the key's first transfers
# again (`metareg.checks.first_transfer_totals`). A row counts only while its `upto` is
# the watermark the check starts from.
FirstTransferTotal = table(
    "detection_first_transfer_total",
    Column("cooperative_approach_id", String(APPROACH_ID_LENGTH), primary_key=True),
    Column("authorization_id", String(256), primary_key=True),
    Column("units", Serial, nullable=False),
    Column("upto", Serial, nullable=False),
)

WebhookSubscription = table(
    "webhook_subscription",
    Column("id", String(64), primary_key=True),  # its name
    Column("url", String(2000), nullable=False),
    Column("secret", String(500), nullable=False),
    Column("rules", Json),
    Column("severities", Json),
    Column("cooperative_approach_ids", Json),
    Column("registries", Json),
    Column("allow_private", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("origin", String(16), nullable=False, default="cli"),  # config | cli
    Column("created_at", UtcDateTime, nullable=False),
)

WebhookDelivery = table(
    "webhook_delivery",
    Column("id", BigId, primary_key=True),
    Column("delivery_id", String(36), nullable=False),
    Column("subscription_id", String(64), nullable=False),
    Column("event_seq", Serial, nullable=False),
    # pending | delivered | failed
    Column("status", String(12), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    UniqueConstraint("delivery_id", name="uq_webhook_delivery_id"),
    UniqueConstraint("subscription_id", "event_seq", name="uq_webhook_delivery_event"),
    Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
)

WebhookAttempt = table(
    "webhook_attempt",
    Column("id", BigId, primary_key=True),
    Column("delivery_id", String(36), nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Float, nullable=False, default=0.0),
    Index("ix_webhook_attempt_delivery", "delivery_id"),
)
