"""Registries and how their sync is doing, read once for every view of it: `metareg
status`, `GET /v1/registries` and the dashboard's health table.

A registry is listed when the configuration names it, the index holds it, or its sync
left state behind. Its sync state, lease, last reconciliation and unreviewed
quarantine come from one statement per table, for all registries at once. What may
carry a credential never leaves here: configuration settings that look like one are
dropped, and URLs and known secrets in error messages are masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from metareg import log
from metareg.db.tables.index import Quarantine, Registry, SyncState
from metareg.db.tables.sync import SyncLease, SyncReconciliation
from metareg.registries import RegistryConfig, load_registries
from metareg.sync.settings import DEFAULT_QUARANTINE_ALERT_SHARE, SyncSettings

_registry = Registry
_state = SyncState
_lease = SyncLease
_reconciled = SyncReconciliation
_quarantine = Quarantine

# Setting names that may carry credentials: never shown, whatever the connector.
SECRET_NAME = re.compile(
    r"auth|token|secret|password|passwd|credential|key|header|cookie|cert", re.IGNORECASE
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def without_secrets(value: Any) -> Any:
    """Configuration with every credential-like setting removed (recursively)."""
    if isinstance(value, dict):
        return {
            key: without_secrets(item)
            for key, item in value.items()
            if not SECRET_NAME.search(str(key))
        }
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    if isinstance(value, str):
        return _URL_USERINFO.sub(r"\g<scheme>***@", value)
    return value


def _scrub(text: str | None) -> str | None:
    if text is None:
        return None
    masked = log.redact_secrets(None, "", {"text": text})["text"]
    return str(_URL_USERINFO.sub(r"\g<scheme>***@", masked))[:1000]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RegistryStatus:
    id: str
    party_id: str
    name: str
    config: RegistryConfig | None  # None: in the index, no longer configured
    in_index: bool
    sync: dict[str, Any] | None  # its `sync_state` row (last_error masked); None: never synced
    lease: dict[str, Any] | None
    reconciliation: dict[str, Any] | None
    quarantined_unreviewed: int

    @property
    def configured(self) -> bool:
        return self.config is not None

    @property
    def connector(self) -> str | None:
        """The connector type the configuration names, if any."""
        raw = self.config.settings.get("connector") if self.config else None
        return str(raw.get("type")) if isinstance(raw, dict) and raw.get("type") else None

    @property
    def configuration(self) -> dict[str, Any] | None:
        """The registry's settings, credentials removed (for the oversight role)."""
        return without_secrets(self.config.settings) if self.config else None

    @property
    def status(self) -> str:
        """`never` (nothing synced yet), `ok`, or `failing` (the last attempts failed)."""
        sync = self.sync
        if sync is None or (sync["last_success_at"] is None and not sync["consecutive_failures"]):
            return "never"
        return "failing" if sync["consecutive_failures"] else "ok"

    @property
    def quarantine_share(self) -> float:
        """The largest share of a page the last successful sync quarantined."""
        return float((self.sync or {}).get("last_quarantine_share") or 0.0)

    def health(self, now: datetime) -> str:
        """`status`, with `ok` split: `quarantining` when the last sync quarantined more of
        a page than the registry's quarantine_alert_share; and `failing` split: still
        `failing` while the last success is within the registry's staleness limit,
        `stale` beyond it (or with none)."""
        status = self.status
        if status == "ok" and self.quarantine_share > self.quarantine_alert_share:
            return "quarantining"
        if status != "failing" or self.sync is None:
            return status
        success = self.sync["last_success_at"]
        stale_after = SyncSettings.of(self.config).staleness_limit if self.config else None
        if success is not None and stale_after and now - _aware(success) <= stale_after:
            return "failing"
        return "stale"

    @property
    def quarantine_alert_share(self) -> float:
        if self.config is None:
            return DEFAULT_QUARANTINE_ALERT_SHARE
        try:
            return SyncSettings.of(self.config).quarantine_alert_share
        except Exception as error:
            from metareg.connectors.errors import ConfigurationError

            if not isinstance(error, ConfigurationError):
                raise
            return DEFAULT_QUARANTINE_ALERT_SHARE

    def worker(self, now: datetime) -> str | None:
        """The worker holding the registry's sync lease, while the lease lasts."""
        lease = self.lease or {}
        expires = lease.get("expires_at")
        return lease.get("holder") if expires and _aware(expires) > now else None


def _by_registry(connection: Connection, table: Any) -> dict[str, dict[str, Any]]:
    return {row["registry_id"]: dict(row) for row in connection.execute(select(table)).mappings()}


def registry_statuses(connection: Connection, config_dir: Path) -> list[RegistryStatus]:
    """Every registry the configuration in `config_dir` names or the index knows, by id.
    Raises `RegistryConfigError` when registries.toml is unreadable."""
    configs = {c.id: c for c in load_registries(config_dir / "registries.toml")}
    stored = {row.id: row for row in connection.execute(select(_registry))}
    states = _by_registry(connection, _state)
    leases = _by_registry(connection, _lease)
    reconciliations = _by_registry(connection, _reconciled)
    quarantined: dict[str, int] = dict(
        connection.execute(
            select(_quarantine.c.registry_id, func.count())
            .where(_quarantine.c.status == "unreviewed")
            .group_by(_quarantine.c.registry_id)
        ).all()
    )
    out = []
    for registry_id in sorted(set(configs) | set(stored) | set(states)):
        config, row, sync = (
            configs.get(registry_id),
            stored.get(registry_id),
            states.get(registry_id),
        )
        if sync is not None:
            sync["last_error"] = _scrub(sync["last_error"])
        out.append(
            RegistryStatus(
                id=registry_id,
                party_id=config.party_id
                if config
                else str(getattr(row, "party_id", registry_id[:3])),
                name=(config.name if config else "") or (row.name if row else ""),
                config=config,
                in_index=row is not None,
                sync=sync,
                lease=leases.get(registry_id),
                reconciliation=reconciliations.get(registry_id),
                quarantined_unreviewed=int(quarantined.get(registry_id, 0)),
            )
        )
    return out


def last_sync_attempt(connection: Connection) -> datetime | None:
    """When any registry's sync was last attempted (what a live view watches)."""
    value: datetime | None = connection.execute(select(func.max(_state.c.last_attempt_at))).scalar()
    return value
