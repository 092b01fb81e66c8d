"""`metareg stats`: the index's totals, the figures `GET /v1/stats` serves."""

from __future__ import annotations

import typer

from metareg.cli.context import check_format, console, echo_json, options


def stats(
    ctx: typer.Context,
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """Units by state, cooperative approach, vintage and first transferring Party."""
    check_format(output)
    from rich.table import Table

    from metareg.oversight.alerts import open_by_severity
    from metareg.oversight.totals import index_totals

    with options(ctx).engine().connect() as connection:
        totals = index_totals(connection)
        figures = {
            "change_sequence": totals["change_sequence"],
            "by_state": totals["by_state"],
            "by_cooperative_approach": totals["by_cooperative_approach"],
            "by_vintage": totals["by_vintage"],
            "by_party": totals["by_party"],
            "open_alerts": open_by_severity(connection),
        }
    if output == "json":
        echo_json(figures)
        return
    for title, key, rows in (
        ("by cooperative approach", "cooperative_approach_id", figures["by_cooperative_approach"]),
        ("by vintage", "vintage", figures["by_vintage"]),
        ("by first transferring Party", "party_id", figures["by_party"]),
    ):
        table = Table(key, "units", "by state", title=title)
        for row in rows:
            states = row["quantity_by_state"]
            table.add_row(
                str(row[key]),
                str(sum(states.values())),
                ", ".join(f"{state} {units}" for state, units in sorted(states.items())),
            )
        console.print(table)
    total = sum(figures["by_state"].values())
    console.print(f"{total} units; open alerts: {figures['open_alerts']}")
