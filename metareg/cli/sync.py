"""`metareg sync [REGISTRY...]`: sync registries once, now, with a progress bar."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from metareg.cli.context import console, errors, fail, options

if TYPE_CHECKING:
    from rich.progress import TaskID

    from metareg.registries import RegistryConfig


def configured_registries(ctx: typer.Context) -> list[RegistryConfig]:
    from metareg.connectors.errors import ConfigurationError
    from metareg.registries import RegistryConfigError, load_registries
    from metareg.sync.settings import SyncSettings

    path = options(ctx).config / "registries.toml"
    try:
        registries = load_registries(path)
        for registry in registries:
            SyncSettings.of(registry)  # a bad schedule or policy fails here, named
    except (RegistryConfigError, ConfigurationError) as error:
        raise fail(str(error)) from error
    return registries


def sync(
    ctx: typer.Context,
    registries: list[str] = typer.Argument(
        None, help="Registry ids (default: every registry with a connector)."
    ),
    checks: bool = typer.Option(
        True, "--checks/--no-checks", help="Run the checks after the syncs."
    ),
) -> None:
    """Sync now, as one round: the checks run once, after every sync. Exit 0 when every
    sync succeeded, 1 when one failed or was busy, 3 when one quarantined more of a page
    than the registry's quarantine_alert_share (its health is then `quarantining`)."""
    from metareg.checks.runner import run_checks
    from metareg.sync.worker import Worker

    configs = configured_registries(ctx)
    worker = Worker(
        options(ctx).engine(create=True), configs, after_round=run_checks if checks else None
    )
    wanted = list(registries or worker.syncable())
    unknown = [r for r in wanted if r not in worker.registries]
    if unknown:
        raise fail(f"not in registries.toml: {', '.join(unknown)}")
    no_connector = [r for r in wanted if r not in worker.syncable()]
    if no_connector:
        raise fail(f"no connector configured for: {', '.join(no_connector)}")
    if not wanted:
        console.print("no registry has a connector configured (see docs/connectors.md)")
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Column, Table

    table = Table(
        Column("registry", no_wrap=True),
        # "quarantining" stays one word at 80 columns; its share folds below it.
        Column("result", min_width=len("quarantining")),
        "pages",
        "received",
        "new",
        "corrected",
        "withdrawn",
        "quarantined",
        "error",
        title="sync",
    )
    failed = quarantining = False
    held: list[str] = []
    with (
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed} records"),
            TimeElapsedColumn(),
            console=errors,
            disable=not sys.stderr.isatty(),
            transient=True,
        ) as progress,
        worker.round() as sync_round,
    ):
        for registry_id in wanted:
            task = progress.add_task(f"syncing {registry_id}", total=None)

            def advance(count: int, task: TaskID = task) -> None:
                progress.advance(task, count)

            result = sync_round.sync(registry_id, progress=advance)
            progress.remove_task(task)
            if result is None:
                failed = True
                table.add_row(
                    registry_id,
                    "[yellow]busy[/]",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "another worker holds its lease",
                )
                continue
            failed |= not result.ok
            quarantining |= result.ok and result.quarantining
            if result.held:
                held.append(f"{registry_id}: {result.held} withdrawal(s) held back (SY04)")
            counts = result.counts
            table.add_row(
                registry_id,
                (
                    "[red]failed[/]"
                    if not result.ok
                    else f"[yellow]quarantining ({result.quarantine_share:.0%} of a page)[/]"
                    if result.quarantining
                    else "[green]ok[/]"
                ),
                str(result.pages),
                str(result.received),
                str(counts.accepted),
                str(counts.corrected),
                str(counts.withdrawn + counts.superseded),
                str(counts.quarantined),
                result.error or "",
            )
    console.print(table)
    for line in held:
        errors.print(f"[yellow]{line}[/]; apply with: metareg withdrawals confirm REGISTRY")
    if failed:
        raise typer.Exit(1)
    if quarantining:
        raise typer.Exit(3)
