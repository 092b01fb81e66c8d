"""`metareg registries`: the registries of config/registries.toml."""

from __future__ import annotations

import typer

from metareg.cli.context import check_format, console, echo_json, fail, options


def registries(
    ctx: typer.Context,
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """List the configured registries (id, Party, the Parties it also acts for, name) and
    the crediting programmes' registries beside them (Party: "programme")."""
    check_format(output)
    from rich.table import Table

    from metareg.registries import RegistryConfigError, load_registries

    path = options(ctx).config / "registries.toml"
    try:
        configs = load_registries(path)
    except RegistryConfigError as error:
        raise fail(str(error)) from error
    if output == "json":
        echo_json(
            [
                {
                    "id": c.id,
                    "party_id": c.party_id,
                    "kind": c.kind,
                    "acts_for": list(c.acts_for),
                    "name": c.name,
                    "connector": (c.settings.get("connector") or {}).get("type"),
                }
                for c in configs
            ]
        )
        return
    if not configs:
        console.print(f"no registries configured in {path}")
        return
    table = Table("id", "Party", "acts for", "name", title=f"registries ({path})")
    for config in configs:
        party = config.party_id or config.kind
        table.add_row(config.id, party, ", ".join(config.acts_for), config.name)
    console.print(table)
