"""`metareg ingest PATH... --registry ID`: canonical records from files into the index;
`--source NAME`: a registry's own files through a source profile (`metareg sources`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from metareg.cli.context import console, errors, fail, options

if TYPE_CHECKING:
    from metareg.sync.ingest import IngestReport


def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ..., help="JSON Lines (.jsonl) or CSV canonical records, or any file --source reads."
    ),
    registry: str | None = typer.Option(
        None,
        "--registry",
        "-r",
        help="The reporting registry the records come from, e.g. JPN01 (with --source: "
        "instead of the registries the profile takes from the data).",
    ),
    source: str | None = typer.Option(
        None, "--source", "-s", help="A source profile (`metareg sources`), e.g. jcm-credits."
    ),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="A profile parameter NAME=VALUE (repeatable)."
    ),
    batch_size: int = typer.Option(5000, "--batch-size", min=1, max=100_000),
    alert_share: float | None = typer.Option(
        None,
        "--quarantine-alert-share",
        min=0.0,
        max=1.0,
        envvar="METAREG_QUARANTINE_ALERT_SHARE",
        help="Exit 3 when more than this share of a file's rows was quarantined "
        "(default: sync's quarantine_alert_share default, 0.5).",
        show_default=False,
    ),
) -> None:
    """Validate and load records; bad lines go to the quarantine with their reasons
    (`metareg quarantine list`).

    Exit 0 when every line was accepted, 1 when some were quarantined, 3 when more than
    --quarantine-alert-share of a file was (most likely the mapping is wrong), 2 on a
    usage error.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
    from rich.table import Table

    from metareg import log
    from metareg.registries import RegistryConfigError, check_registry_id
    from metareg.sync.ingest import IngestUsageError, ingest_files
    from metareg.sync.settings import DEFAULT_QUARANTINE_ALERT_SHARE

    if alert_share is None:
        alert_share = DEFAULT_QUARANTINE_ALERT_SHARE
    if registry is None and source is None:
        raise fail("give --registry (canonical records) or --source (a source profile)")
    if registry is not None:
        try:
            check_registry_id(registry)
        except RegistryConfigError as error:
            raise fail(str(error)) from error
    if param and source is None:
        raise fail("--param goes with --source")
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

        def advance(consumed: int) -> None:
            progress.advance(task, consumed)

        try:
            if source is None:
                assert registry is not None
                report = ingest_files(
                    options(ctx).engine(create=True), paths, registry, batch_size, advance
                )
            else:
                report = _ingest_source(ctx, paths, source, param, registry, batch_size, advance)
        except IngestUsageError as error:
            raise fail(str(error)) from error

    counts = report.counts
    log.get_logger("metareg.sync.ingest").info(
        "ingest finished",
        registry=registry,
        source=source,
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
        title=f"{report.lines} {'rows' if source else 'lines'} from {report.files} file(s) "
        f"into {registry or 'the registries the data names'}",
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
    for reason, count in sorted(report.skipped.items()):
        console.print(f"skipped {count} row(s): {reason}", highlight=False, markup=False)
    for origin, location, problems in report.problems:
        for problem in problems:
            errors.print(f"{origin} {location}: {problem}", highlight=False, markup=False)
    if counts.quarantined > len(report.problems):
        errors.print(
            f"... {counts.quarantined - len(report.problems)} more quarantined lines "
            "(see the quarantine table)"
        )
    flooded = report.over_share(alert_share)
    for source_file, share in flooded:
        errors.print(
            f"QUARANTINING: {share:.0%} of the rows of {source_file} were quarantined, more "
            f"than the alert share {alert_share:.0%}; check the mapping, then "
            "`metareg quarantine reprocess`",
            highlight=False,
            markup=False,
        )
    if flooded:
        raise typer.Exit(3)
    if counts.quarantined:
        raise typer.Exit(1)


def _ingest_source(
    ctx: typer.Context,
    paths: list[Path],
    source: str,
    params: list[str],
    registry: str | None,
    batch_size: int,
    progress: Callable[[int], None],
) -> IngestReport:
    from metareg.connectors.mapping import ProfileError, load_profile
    from metareg.sync.profile_ingest import ingest_with_profile

    given: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise fail(f"--param {item!r}: expected NAME=VALUE")
        given[name.strip()] = value.strip()
    try:
        profile = load_profile(source, options(ctx).config)
    except ProfileError as error:
        raise fail(str(error)) from error
    return ingest_with_profile(
        options(ctx).engine(create=True), paths, profile, given, registry, batch_size, progress
    )
