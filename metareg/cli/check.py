"""`metareg check [--full] [--as-of DATE]`: run the double-counting checks."""

from __future__ import annotations

import json
import os
from datetime import date

import typer

from metareg.cli.context import check_format, console, fail, options

GRACE_ENV = "METAREG_GRACE_DAYS"


def _grace_default() -> int:
    from metareg.checks.runner import DEFAULT_GRACE_DAYS

    value = os.environ.get(GRACE_ENV)
    try:
        return int(value) if value else DEFAULT_GRACE_DAYS
    except ValueError:
        return DEFAULT_GRACE_DAYS


def check(
    ctx: typer.Context,
    full: bool = typer.Option(False, "--full", help="Re-check the whole index, not only changes."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Judge as of this date (YYYY-MM-DD; DC10/DC11 grace counts from it)."
    ),
    grace_days: int | None = typer.Option(
        None,
        "--grace-days",
        min=0,
        help=f"Grace period of DC10/DC11 in days (default: ${GRACE_ENV}, or RULES.md's 30).",
        show_default=False,
    ),
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """Run the rules of RULES.md over the index and print a summary per rule.

    Incremental by default: only the records changed since the last check are
    re-judged (the first check reads everything). The registries of
    registries.toml are stored first: who acts for which Party (`acts_for`) decides
    which authorizations count.
    """
    check_format(output)
    from rich.table import Table

    from metareg.checks.runner import run_checks
    from metareg.registries import RegistryConfigError, load_registries, store_configured

    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError as error:
            raise fail(f"--as-of must be a date YYYY-MM-DD, not {as_of!r}") from error
    engine = options(ctx).engine(create=True)
    try:
        configs = load_registries(options(ctx).config / "registries.toml")
    except RegistryConfigError as error:
        raise fail(str(error)) from error
    if configs:  # the checks judge by what the index holds of them (acts_for)
        with engine.begin() as connection:
            store_configured(connection, configs)
    summary = run_checks(
        engine,
        full=full,
        as_of=day,
        grace_days=grace_days if grace_days is not None else _grace_default(),
    )
    if output == "json":
        typer.echo(json.dumps(summary.as_dict(), indent=2))
        return
    table = Table(
        "rule",
        "name",
        "severity",
        "opened",
        "resolved",
        "open",
        "acknowledged",
        title=f"{'full' if summary.full else 'incremental'} check as of {summary.as_of} "
        f"(grace {summary.grace_days} d, up to change {summary.watermark}, "
        f"{summary.seconds:.2f} s)",
    )
    for row in summary.rules():
        table.add_row(
            row["rule"],
            row["name"],
            row["severity"],
            str(row["opened"]),
            str(row["resolved"]),
            str(row["open"]),
            str(row["acknowledged"]),
        )
    console.print(table)
