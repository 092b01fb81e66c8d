"""The `metareg` command line: one module per command group, assembled here."""

from __future__ import annotations

import typer

from metareg.cli import aef as aef_command
from metareg.cli import alerts as alerts_commands
from metareg.cli import check as check_command
from metareg.cli import db as db_commands
from metareg.cli import demo as demo_command
from metareg.cli import ingest as ingest_command
from metareg.cli import keys as keys_commands
from metareg.cli import quarantine as quarantine_commands
from metareg.cli import registries as registries_command
from metareg.cli import run as run_command
from metareg.cli import serve as serve_command
from metareg.cli import show as show_command
from metareg.cli import simulate as simulate_command
from metareg.cli import sources as sources_command
from metareg.cli import stats as stats_command
from metareg.cli import status as status_command
from metareg.cli import sync as sync_command
from metareg.cli import withdrawals as withdrawals_commands
from metareg.cli.context import main_callback

app = typer.Typer(
    rich_markup_mode=None,
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
app.command("sources")(sources_command.sources)
app.command("stats")(stats_command.stats)
app.command("aef")(aef_command.aef)
app.add_typer(db_commands.app, name="db")
app.add_typer(keys_commands.app, name="keys")
app.command("serve")(serve_command.serve)
app.command("simulate")(simulate_command.simulate)
app.command("run")(run_command.run)
app.command("sync")(sync_command.sync)
app.command("status")(status_command.status)
app.command("check")(check_command.check)
app.add_typer(alerts_commands.app, name="alerts")
app.add_typer(quarantine_commands.app, name="quarantine")
app.add_typer(withdrawals_commands.app, name="withdrawals")


def main() -> None:
    app()
