"""The `metareg` command line: one module per command group, assembled here."""

from __future__ import annotations

import typer

from metareg.cli import db as db_commands
from metareg.cli import demo as demo_command
from metareg.cli import ingest as ingest_command
from metareg.cli import registries as registries_command
from metareg.cli import show as show_command
from metareg.cli.context import main_callback

app = typer.Typer(
    name="metareg",
    help="Meta-registry for Article 6.2: one index of every registry's ITMOs, "
    "with double-counting detection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback()(main_callback)
app.command("demo")(demo_command.demo)
app.command("ingest")(ingest_command.ingest)
app.command("show")(show_command.show)
app.command("registries")(registries_command.registries)
app.add_typer(db_commands.app, name="db")


def main() -> None:
    app()
