"""`metareg status`: the sync health of every registry, as a table
(`metareg.oversight.registries`, what /v1/registries and the dashboard show)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from rich.table import Table

from metareg.cli.context import console, fail, options
from metareg.oversight.registries import registry_statuses
from metareg.registries import RegistryConfigError

HEALTH_STYLE = {
    "never": "[dim]never synced[/]",
    "ok": "[green]ok[/]",
    "quarantining": "[yellow]quarantining[/]",
    "failing": "[yellow]failing[/]",
    "stale": "[red]stale[/]",
}


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


def _quarantined(count: int, share: float) -> str:
    return f"{count} ({share:.0%} of a page)" if share else str(count)


def status(ctx: typer.Context) -> None:
    """Sync health per registry (`quarantining`: the last sync quarantined more of a page
    than the registry's quarantine_alert_share): last attempt and success, records
    received and quarantined, lag, consecutive failures, last error, lease and reconciliation."""
    opts = options(ctx)
    try:
        with opts.engine().connect() as connection:
            found = registry_statuses(connection, opts.config)
    except RegistryConfigError as error:
        raise fail(str(error)) from error
    now = datetime.now(UTC)
    table = Table(title="sync health")
    table.add_column("registry", no_wrap=True, min_width=5)
    table.add_column("health", no_wrap=True)
    for name in ("connector", "last attempt", "last success", "received", "quarantined"):
        table.add_column(name)
    for name in ("lag", "failures", "reconciled", "worker", "last error"):
        table.add_column(name)
    for registry in found:
        sync = registry.sync or {}
        lag = sync.get("lag_seconds")
        recon = registry.reconciliation
        table.add_row(
            registry.id,
            HEALTH_STYLE[registry.health(now)],
            registry.connector or "-",
            _ago(sync.get("last_attempt_at"), now),
            _ago(sync.get("last_success_at"), now),
            str(sync.get("records_received") or 0),
            str(sync.get("records_quarantined") or 0)
            + (
                f" ({registry.quarantine_share:.0%} of a page)" if registry.quarantine_share else ""
            ),
            "-" if lag is None else f"{lag:.0f}s",
            str(sync.get("consecutive_failures") or 0),
            f"{recon.get('status')} ({_ago(recon.get('last_run_at'), now)})" if recon else "-",
            registry.worker(now) or "-",
            (sync.get("last_error") or "")[:80],
        )
    console.print(table)
