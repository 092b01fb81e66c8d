"""`metareg sources`: the source profiles and what each reads."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from metareg.cli.context import console, fail, options


def sources(
    ctx: typer.Context,
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """List the source profiles `ingest --source` and connectors' `source =` can use."""
    from metareg.connectors.mapping import ProfileError, load_profile, profile_paths

    if output not in ("table", "json"):
        raise fail("--format must be table or json")
    config = options(ctx).config
    try:
        described = [
            load_profile(str(path), config).describe() for path in profile_paths(config).values()
        ]
    except ProfileError as error:
        raise fail(str(error)) from error
    if output == "json":
        typer.echo(json.dumps(described, indent=2, default=str))
        return
    table = Table("name", "format", "reads", "records", "parameters", title="source profiles")
    for profile in described:
        table.add_row(
            profile["name"],
            profile["format"],
            "\n".join(filter(None, (profile["title"], profile["reads"], profile["notes"]))),
            ", ".join(profile["records"]),
            ", ".join(profile["params"]) or "-",
        )
    console.print(table)
