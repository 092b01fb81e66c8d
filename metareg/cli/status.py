"""`metareg status`: the sync health of every registry, as a table or JSON
(`metareg.oversight.registries`, what /v1/registries and the dashboard show)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from metareg.cli.context import check_format, console, echo_json, fail, options

if TYPE_CHECKING:
    from metareg.oversight.registries import RegistryStatus

HEALTH_STYLE = {
    "never": "[dim]never synced[/]",
    "ok": "[green]ok[/]",
    "quarantining": "[yellow]quarantining[/]",
    "failing": "[yellow]failing[/]",
    "stale": "[red]stale[/]",
}
WIDE = 120  # from this terminal width on, lag, reconciliation and worker are shown too


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
    return f"{count} ({share:.0%})" if share else str(count)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value


def as_json(registry: RegistryStatus, now: datetime) -> dict[str, Any]:
    """One registry's health as `status --format json` prints it (no credentials)."""
    sync = registry.sync or {}
    keep = (
        "last_attempt_at",
        "last_success_at",
        "consecutive_failures",
        "records_received",
        "records_quarantined",
        "lag_seconds",
        "last_error",
    )
    return {
        "id": registry.id,
        "party_id": registry.party_id,
        "name": registry.name,
        "configured": registry.configured,
        "in_index": registry.in_index,
        "connector": registry.connector,
        "health": registry.health(now),
        "sync": {key: _iso(sync.get(key)) for key in keep} if registry.sync else None,
        "quarantined_unreviewed": registry.quarantined_unreviewed,
        "quarantine_share": registry.quarantine_share,
        "reconciliation": {k: _iso(v) for k, v in registry.reconciliation.items()}
        if registry.reconciliation
        else None,
        "worker": registry.worker(now),
    }


def status(
    ctx: typer.Context,
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """Sync health per registry (`quarantining`: the last sync quarantined more of a page
    than the registry's quarantine_alert_share): last attempt and success, records
    received and quarantined, lag, consecutive failures, last error, lease and
    reconciliation."""
    check_format(output)
    from rich import box
    from rich.table import Table

    from metareg.oversight.registries import registry_statuses
    from metareg.registries import RegistryConfigError

    opts = options(ctx)
    try:
        with opts.engine().connect() as connection:
            found = registry_statuses(connection, opts.config)
    except RegistryConfigError as error:
        raise fail(str(error)) from error
    now = datetime.now(UTC)
    if output == "json":
        echo_json([as_json(registry, now) for registry in found])
        return
    wide = console.width >= WIDE
    # Narrow borders and short headings: the common columns fit 80 columns; the last
    # error folds within its own column.
    table = Table(title="sync health", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("registry", no_wrap=True)
    table.add_column("health", no_wrap=True)
    table.add_column("connector", no_wrap=True)
    table.add_column("last success", no_wrap=True)
    table.add_column("records", justify="right", no_wrap=True)
    table.add_column("quar.", justify="right", no_wrap=True)
    table.add_column("fails", justify="right", no_wrap=True)
    if wide:
        for name in ("last attempt", "lag", "reconciled", "worker"):
            table.add_column(name, overflow="fold")
        table.add_column("last error", overflow="fold", min_width=10)
    last_errors = []
    for registry in found:
        sync = registry.sync or {}
        row = [
            registry.id,
            HEALTH_STYLE[registry.health(now)],
            registry.connector or "-",
            _ago(sync.get("last_success_at"), now),
            str(sync.get("records_received") or 0),
            _quarantined(sync.get("records_quarantined") or 0, registry.quarantine_share),
            str(sync.get("consecutive_failures") or 0),
        ]
        if wide:
            lag = sync.get("lag_seconds")
            recon = registry.reconciliation
            row += [
                _ago(sync.get("last_attempt_at"), now),
                "-" if lag is None else f"{lag:.0f}s",
                f"{recon.get('status')} ({_ago(recon.get('last_run_at'), now)})" if recon else "-",
                registry.worker(now) or "-",
            ]
            row.append((sync.get("last_error") or "")[:200])
        elif sync.get("last_error"):
            last_errors.append((registry.id, str(sync["last_error"])[:200]))
        table.add_row(*row)
    console.print(table)
    if any(registry.quarantine_share for registry in found):
        console.print(
            "quar.: records quarantined (in brackets: the largest share of a page in the last sync)"
        )
    if last_errors:  # below the table, so they fold at any width
        console.print("last errors:")
    for registry_id, message in last_errors:
        console.print(f"  {registry_id}: {message}", highlight=False, markup=False)
