"""Webhook subscriptions: where alert events are POSTed, with which secret, and which
events each wants (filters by rule, severity, cooperative approach, registry).

Subscriptions come from `config/webhooks.toml` (origin "config", made to agree with
the file by `sync_config`) or from the CLI (origin "cli"). Every URL passes
`check_url` (metareg.alerts.webhooks.policy) when the subscription is saved and
again before each delivery.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select

from metareg.alerts.webhooks.policy import UrlNotAllowed, check_url
from metareg.db.tables.alerts import WebhookSubscription
from metareg.db.upsert import upsert
from metareg.log import register_secret

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_SECRET = 16
subscriptions_table = WebhookSubscription


class SubscriptionError(ValueError):
    """A subscription that cannot be saved as given (bad name, URL, secret, filter)."""


@dataclass
class Subscription:
    id: str
    url: str
    secret: str
    rules: list[str] | None = None
    severities: list[str] | None = None
    cooperative_approach_ids: list[str] | None = None
    registries: list[str] | None = None
    allow_private: bool = False
    active: bool = True
    origin: str = "cli"
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "secret": self.secret,
            "rules": self.rules,
            "severities": self.severities,
            "cooperative_approach_ids": self.cooperative_approach_ids,
            "registries": self.registries,
            "allow_private": self.allow_private,
            "active": self.active,
            "origin": self.origin,
        }


def _validate(subscription: Subscription, allow_private: bool = False) -> None:
    if not NAME.match(subscription.id):
        raise SubscriptionError(
            f"subscription name {subscription.id!r}: use letters, digits, '.', '_' or '-' "
            "(at most 64)"
        )
    if len(subscription.secret or "") < MIN_SECRET:
        raise SubscriptionError(
            f"subscription {subscription.id}: the secret must have at least {MIN_SECRET} characters"
        )
    try:
        check_url(
            subscription.url,
            allow_private=subscription.allow_private or allow_private,
            resolve=False,  # checked again, resolved, before every delivery
        )
    except UrlNotAllowed as error:
        raise SubscriptionError(f"subscription {subscription.id}: {error}") from error
    for name in ("rules", "severities", "cooperative_approach_ids", "registries"):
        value = getattr(subscription, name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise SubscriptionError(
                f"subscription {subscription.id}: {name} must be a list of text"
            )
    register_secret(subscription.secret)


def save_subscription(connection: Connection, subscription: Subscription) -> dict[str, Any]:
    """Add or replace a subscription (validated); returns it without its secret."""
    _validate(subscription)
    row = {**subscription.row(), "created_at": datetime.now(UTC)}
    upsert(
        connection,
        subscriptions_table,
        [row],
        key=("id",),
        update=[c for c in row if c != "created_at"],
    )
    found = get_subscription(connection, subscription.id)
    assert found is not None
    return found


def public(row: Any) -> dict[str, Any]:
    """A subscription as shown to people: everything but the secret."""
    mapping = dict(row._mapping)
    mapping.pop("secret", None)
    mapping["created_at"] = mapping["created_at"].isoformat() if mapping["created_at"] else None
    return mapping


def get_subscription(connection: Connection, subscription_id: str) -> dict[str, Any] | None:
    row = connection.execute(
        select(subscriptions_table).where(subscriptions_table.c.id == subscription_id)
    ).first()
    return public(row) if row else None


def list_subscriptions(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(select(subscriptions_table).order_by(subscriptions_table.c.id))
    return [public(row) for row in rows]


def remove_subscription(connection: Connection, subscription_id: str) -> bool:
    """Delete a subscription; its pending deliveries will be marked failed when due."""
    result = connection.execute(
        delete(subscriptions_table).where(subscriptions_table.c.id == subscription_id)
    )
    return bool(result.rowcount)


def active_subscriptions(connection: Connection) -> list[dict[str, Any]]:
    """Active subscriptions with their secrets (for queuing and signing only)."""
    rows = connection.execute(
        select(subscriptions_table).where(subscriptions_table.c.active.is_(True))
    )
    return [dict(row._mapping) for row in rows]


def secret_of(connection: Connection, subscription_id: str) -> dict[str, Any] | None:
    row = connection.execute(
        select(subscriptions_table).where(subscriptions_table.c.id == subscription_id)
    ).first()
    return dict(row._mapping) if row else None


def wants(subscription: dict[str, Any], alert: dict[str, Any]) -> bool:
    """Whether an event about `alert` passes the subscription's filters (an absent or
    empty filter lets everything through)."""
    if subscription.get("rules") and alert["rule"] not in subscription["rules"]:
        return False
    if subscription.get("severities") and alert["severity"] not in subscription["severities"]:
        return False
    cas = subscription.get("cooperative_approach_ids")
    if cas and alert.get("cooperative_approach_id") not in cas:
        return False
    registries = subscription.get("registries")
    if registries:
        involved = {*(alert.get("registries") or []), alert.get("party_registry_id")}
        if not involved.intersection(registries):
            return False
    return True


# -- configuration file -----------------------------------------------------------------


def _list(entry: dict[str, Any], name: str) -> list[str] | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def load_config(path: Path) -> list[Subscription]:
    """The [[webhooks]] of a webhooks.toml; a missing file means none."""
    if not path.exists():
        return []
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SubscriptionError(f"{path}: not valid TOML: {error}") from error
    found: list[Subscription] = []
    for number, entry in enumerate(document.get("webhooks", []), start=1):
        if not isinstance(entry, dict) or "name" not in entry or "url" not in entry:
            raise SubscriptionError(f"{path}: webhooks entry {number} needs a name and a url")
        secret = entry.get("secret")
        if secret is None and "secret_env" in entry:
            secret = os.environ.get(str(entry["secret_env"]))
            if secret is None:
                raise SubscriptionError(
                    f"{path}: webhook {entry['name']}: environment variable "
                    f"{entry['secret_env']} is not set"
                )
        subscription = Subscription(
            id=str(entry["name"]),
            url=str(entry["url"]),
            secret=str(secret or ""),
            rules=_list(entry, "rules"),
            severities=_list(entry, "severities"),
            cooperative_approach_ids=_list(entry, "cooperative_approaches"),
            registries=_list(entry, "registries"),
            allow_private=bool(entry.get("allow_private", False)),
            active=bool(entry.get("active", True)),
            origin="config",
        )
        _validate(subscription)
        found.append(subscription)
    return found


def sync_config(connection: Connection, configured: Sequence[Subscription]) -> dict[str, int]:
    """Make the subscriptions of origin "config" agree with the file (CLI ones stay)."""
    names = {s.id for s in configured}
    for subscription in configured:
        save_subscription(connection, subscription)
    stale = connection.execute(
        select(subscriptions_table.c.id).where(subscriptions_table.c.origin == "config")
    ).scalars()
    removed = [name for name in stale if name not in names]
    for name in removed:
        remove_subscription(connection, name)
    return {"saved": len(configured), "removed": len(removed)}
