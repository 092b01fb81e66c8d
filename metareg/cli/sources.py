"""`metareg sources`: the source profiles and what each reads."""

from __future__ import annotations

import typer

from metareg.cli.context import check_format, console, echo_json, fail, options


def sources(
    ctx: typer.Context,
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """List the source profiles `ingest --source` and connectors' `source =` can use."""
    check_format(output)
    from rich.table import Table

    from metareg.connectors.mapping import ProfileError, load_profile, profile_paths

    config = options(ctx).config
    try:
        described = [
            load_profile(str(path), config).describe() for path in profile_paths(config).values()
        ]
    except ProfileError as error:
        raise fail(str(error)) from error
    if output == "json":
        echo_json(described)
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
