"""`metareg withdrawals list|confirm`: withdrawals a complete listing would have made
beyond the registry's allowed share, held back (SY04), and their confirmation."""

from __future__ import annotations

import getpass

import typer
from rich.table import Table

from metareg.cli.context import console, fail, options

app = typer.Typer(
    help="Withdrawals held back because a listing would withdraw too much (SY04).",
    no_args_is_help=True,
)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """The withdrawals held back, per registry and scope."""
    from metareg.oversight import withdrawals

    with options(ctx).engine().connect() as connection:
        found = withdrawals.held(connection)
    if not found:
        console.print("no withdrawals held back")
        return
    table = Table("registry", "scope", "would withdraw", "of current", "limit", "held at")
    for hold in found:
        table.add_row(
            hold["registry_id"],
            hold["scope"],
            str(hold["withdraw_count"]),
            str(hold["current_count"]),
            f"{hold['share_limit']:.0%}",
            hold["held_at"],
        )
    console.print(table)


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    registry: str = typer.Argument(..., help="The registry whose held withdrawals to apply."),
) -> None:
    """Apply a registry's held withdrawals (the registry really withdrew those records),
    then run the checks."""
    from metareg.oversight import withdrawals

    try:
        done = withdrawals.confirm(options(ctx).engine(), registry, by=f"cli:{getpass.getuser()}")
    except withdrawals.NothingHeld as error:
        raise fail(str(error)) from error
    console.print(
        f"{registry}: {done['withdrawn']} record(s) withdrawn ({', '.join(done['scopes'])})"
    )
