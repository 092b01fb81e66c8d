"""`metareg status`: the sync health of every registry, as a table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select

from metareg.cli.context import console, fail, options
from metareg.db.tables.index import SyncState
from metareg.db.tables.sync import SyncLease, SyncReconciliation
from metareg.registries import RegistryConfigError, load_registries
from metareg.sync.settings import SyncSettings

_state = SyncState.__table__  # type: ignore[attr-defined]
_lease = SyncLease.__table__  # type: ignore[attr-defined]
_reconciled = SyncReconciliation.__table__  # type: ignore[attr-defined]


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = int((now - value).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def health_rows(ctx: typer.Context) -> list[dict[str, Any]]:
    opts = options(ctx)
    try:
        configured = load_registries(opts.config / "registries.toml")
    except RegistryConfigError as error:
        raise fail(str(error)) from error
    with opts.engine().connect() as connection:
        states = {r["registry_id"]: dict(r) for r in connection.execute(select(_state)).mappings()}
        leases = {r["registry_id"]: dict(r) for r in connection.execute(select(_lease)).mappings()}
        recon = {
            r["registry_id"]: dict(r) for r in connection.execute(select(_reconciled)).mappings()
        }
    rows = []
    ids = [c.id for c in configured] + sorted(set(states) - {c.id for c in configured})
    by_id = {c.id: c for c in configured}
    for registry_id in ids:
        config = by_id.get(registry_id)
        rows.append(
            {
                "registry_id": registry_id,
                "connector": (config.settings.get("connector") or {}).get("type", "-")
                if config
                else "-",
                "stale_after": SyncSettings.of(config).staleness_limit if config else None,
                **states.get(registry_id, {}),
                "lease": leases.get(registry_id, {}),
                "reconciliation": recon.get(registry_id, {}),
            }
        )
    return rows


def status(ctx: typer.Context) -> None:
    """Sync health per registry: last attempt and success, records received and
    quarantined, lag, consecutive failures, last error, lease and reconciliation."""
    now = datetime.now(UTC)
    table = Table(title="sync health")
    table.add_column("registry", no_wrap=True, min_width=5)
    table.add_column("health", no_wrap=True)
    for name in ("connector", "last attempt", "last success", "received", "quarantined"):
        table.add_column(name)
    for name in ("lag", "failures", "reconciled", "worker", "last error"):
        table.add_column(name)
    for row in health_rows(ctx):
        success = row.get("last_success_at")
        failures = row.get("consecutive_failures") or 0
        stale_after = row.get("stale_after")
        if row.get("last_attempt_at") is None:
            health = "[dim]never synced[/]"
        elif success is not None and failures == 0:
            health = "[green]ok[/]"
        elif success is not None and stale_after and now - _aware(success) <= stale_after:
            health = "[yellow]failing[/]"
        else:
            health = "[red]stale[/]"
        lag = row.get("lag_seconds")
        recon = row["reconciliation"]
        lease = row["lease"]
        holder = (
            lease.get("holder")
            if lease.get("expires_at") and _aware(lease["expires_at"]) > now
            else None
        )
        table.add_row(
            row["registry_id"],
            health,
            row["connector"],
            _ago(row.get("last_attempt_at"), now),
            _ago(success, now),
            str(row.get("records_received") or 0),
            str(row.get("records_quarantined") or 0),
            "-" if lag is None else f"{lag:.0f}s",
            str(failures),
            f"{recon.get('status')} ({_ago(recon.get('last_run_at'), now)})" if recon else "-",
            holder or "-",
            (row.get("last_error") or "")[:80],
        )
    console.print(table)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
