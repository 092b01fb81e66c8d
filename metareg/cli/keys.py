"""`metareg keys create|list|revoke`: API keys of the oversight API.

The token is printed once, on creation, to standard output (so it can be captured
by a script) and is never stored or logged: only its SHA-256 is kept.
"""

from __future__ import annotations

import typer

from metareg.cli.context import check_format, console, echo_json, errors, fail, options

app = typer.Typer(
    rich_markup_mode=None,
    help="API keys of the oversight API (roles: oversight, admin).",
    no_args_is_help=True,
)


@app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="Who or what uses the key."),
    role: str = typer.Option("oversight", "--role", help="oversight or admin"),
) -> None:
    """Create a key and print its token (shown this once)."""
    from metareg.oversight import keys as api_keys

    try:
        with options(ctx).engine(create=True).begin() as connection:
            created, token = api_keys.create_key(connection, name, role)
    except api_keys.KeyUsageError as error:
        raise fail(str(error)) from error
    errors.print(
        f"created key {created['id']} ({created['role']}) for {created['name']}; "
        "store the token now, it is not shown again:"
    )
    typer.echo(token)


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="Include revoked keys."),
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """List keys (never their tokens)."""
    check_format(output)
    from rich.table import Table

    from metareg.oversight import keys as api_keys

    with options(ctx).engine().connect() as connection:
        found = api_keys.list_keys(connection, include_revoked=all_)
    if output == "json":
        echo_json(found)
        return
    if not found:
        console.print("no API keys")
        return
    table = Table("id", "name", "role", "starts with", "created", "revoked")
    for key in found:
        table.add_row(
            str(key["id"]),
            key["name"],
            key["role"],
            key["hint"] + "…",
            key["created_at"][:19],
            (key["revoked_at"] or "")[:19],
        )
    console.print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, key_id: int = typer.Argument(..., help="The key's id")) -> None:
    """Revoke a key: it stops working at once."""
    from metareg.oversight import keys as api_keys

    with options(ctx).engine().begin() as connection:
        revoked = api_keys.revoke_key(connection, key_id)
    if not revoked:
        raise fail(f"no active key with id {key_id}", code=1)
    console.print(f"revoked key {key_id}")
