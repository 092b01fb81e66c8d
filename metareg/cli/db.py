"""`metareg db upgrade|current`: schema migrations."""

from __future__ import annotations

import typer

from metareg.cli.context import console, open_or_fail, options

app = typer.Typer(rich_markup_mode=None, help="Database schema migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration (every command also does this on start)."""
    from metareg.db import migrate
    from metareg.settings import redact_url

    opts = options(ctx)
    engine = open_or_fail(opts.db, create=True)  # opening applies the migrations
    console.print(
        f"schema current at {', '.join(sorted(migrate.applied(engine)))} ({redact_url(opts.db)})"
    )


@app.command("current")
def current(ctx: typer.Context) -> None:
    """Show the applied revisions; exit 1 when migrations are pending."""
    from metareg.db import migrate

    engine = open_or_fail(options(ctx).db, create=False, upgrade=False)
    applied, heads = migrate.applied(engine), migrate.heads(engine)
    console.print(
        f"applied: {', '.join(sorted(applied)) or 'none'}; heads: {', '.join(sorted(heads))}"
    )
    if applied != heads:
        raise typer.Exit(1)
