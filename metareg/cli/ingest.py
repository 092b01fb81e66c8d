"""`metareg ingest PATH... --registry ID`: canonical records from files into the index."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from metareg import log
from metareg.cli.context import console, errors, fail, options
from metareg.registries import RegistryConfigError, check_registry_id
from metareg.sync.ingest import IngestUsageError, ingest_files


def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="JSON Lines (.jsonl) or CSV files."),
    registry: str = typer.Option(
        ..., "--registry", "-r", help="The reporting registry the records come from, e.g. JPN01."
    ),
    batch_size: int = typer.Option(5000, "--batch-size", min=1, max=100_000),
) -> None:
    """Validate and load records; bad lines go to the quarantine with their reasons.

    Exit 0 when every line was accepted, 1 when some were quarantined, 2 on a usage error.
    """
    try:
        check_registry_id(registry)
    except RegistryConfigError as error:
        raise fail(str(error)) from error
    total = sum(p.stat().st_size for p in paths if p.is_file())
    show_bar = sys.stderr.isatty()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=errors,
        disable=not show_bar,
        transient=True,
    ) as progress:
        task = progress.add_task("ingesting", total=total)
        try:
            report = ingest_files(
                options(ctx).engine(),
                paths,
                registry,
                batch_size=batch_size,
                progress=lambda n: progress.advance(task, n),
            )
        except IngestUsageError as error:
            raise fail(str(error)) from error

    counts = report.counts
    log.get_logger("metareg.sync.ingest").info(
        "ingest finished",
        registry=registry,
        files=report.files,
        lines=report.lines,
        **counts.as_dict(),
    )
    table = Table(
        "accepted",
        "corrected",
        "unchanged",
        "withdrawn",
        "quarantined",
        title=f"{report.lines} lines from {report.files} file(s) into {registry}",
    )
    table.add_row(
        *(
            str(v)
            for v in (
                counts.accepted,
                counts.corrected,
                counts.unchanged,
                counts.withdrawn,
                counts.quarantined,
            )
        )
    )
    console.print(table)
    if counts.superseded or counts.stale:
        console.print(
            f"holdings snapshots: {counts.superseded} rows superseded by a newer "
            f"snapshot, {counts.stale} rows of an older snapshot kept in history only"
        )
    for source, location, problems in report.problems:
        for problem in problems:
            errors.print(f"{source} {location}: {problem}", highlight=False, markup=False)
    if counts.quarantined > len(report.problems):
        errors.print(
            f"... {counts.quarantined - len(report.problems)} more quarantined lines "
            "(see the quarantine table)"
        )
    if counts.quarantined:
        raise typer.Exit(1)
