"""`metareg registries`: the registries of config/registries.toml."""

from __future__ import annotations

import typer
from rich.table import Table

from metareg.cli.context import console, fail, options
from metareg.registries import RegistryConfigError, load_registries


def registries(ctx: typer.Context) -> None:
    """List the configured registries (id, Party, the Parties it also acts for, name) and
    the crediting programmes' registries beside them (Party: "programme")."""
    path = options(ctx).config / "registries.toml"
    try:
        configs = load_registries(path)
    except RegistryConfigError as error:
        raise fail(str(error)) from error
    if not configs:
        console.print(f"no registries configured in {path}")
        return
    table = Table("id", "Party", "acts for", "name", title=f"registries ({path})")
    for config in configs:
        party = config.party_id or config.kind
        table.add_row(config.id, party, ", ".join(config.acts_for), config.name)
    console.print(table)
