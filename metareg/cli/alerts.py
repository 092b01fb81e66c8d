"""`metareg alerts`: list and acknowledge alerts; manage and run webhooks."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from metareg.cli.context import check_format, console, echo_json, fail, options

app = typer.Typer(
    rich_markup_mode=None,
    help="Alerts of the double-counting checks and of sync (list, acknowledge, webhooks).",
    invoke_without_command=True,
)
webhooks_app = typer.Typer(
    rich_markup_mode=None, help="Webhook subscriptions and deliveries.", no_args_is_help=True
)
app.add_typer(webhooks_app, name="webhooks")


@app.callback()
def list_alerts(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="open, acknowledged or resolved"),
    rule: str | None = typer.Option(None, "--rule", help="a rule code, e.g. DC01"),
    registry: str | None = typer.Option(None, "--registry", help="a registry id involved"),
    cooperative_approach: str | None = typer.Option(None, "--ca", help="e.g. CA0001"),
    limit: int = typer.Option(1000, "--limit", min=1, max=100_000, help="most alerts to print"),
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """Print the alerts (with --format json: a JSON array of RULES.md alert objects)."""
    if ctx.invoked_subcommand is not None:
        return
    check_format(output)
    from rich.table import Column, Table

    from metareg.oversight import alerts
    from metareg.records.identifiers import is_provisional

    try:
        with options(ctx).engine().connect() as connection:
            found = alerts.list_alerts(
                connection,
                status=status,
                rule=rule,
                registry=registry,
                cooperative_approach_id=cooperative_approach,
                limit=limit,
            )
    except alerts.AlertError as error:
        raise fail(str(error)) from error
    if output == "json":
        echo_json(found)
        return
    if not found:
        console.print("no alerts")
        return
    rows = []
    for alert in found:
        # The ITMO identifier of its range, whole, as `metareg show` takes it.
        where = alert.get("identifier") or alert["cooperative_approach_id"] or ""
        if is_provisional(alert["cooperative_approach_id"]):
            where += " (provisional approach)"
        rows.append((alert, where))
    table = Table(
        Column("id", no_wrap=True, min_width=16),
        "rule",
        "severity",
        "status",
        Column("where", no_wrap=True, min_width=max(len(where) for _, where in rows)),
        "registries",
        "message",
    )
    for alert, where in rows:
        table.add_row(
            alert["id"],
            f"{alert['rule']} {alert['name']}",
            alert["severity"],
            alert["status"],
            where,
            ", ".join(alert["registries"]),
            alert["message"],
        )
    console.print(table)


@app.command("ack")
def ack(
    ctx: typer.Context,
    alert_id: str = typer.Argument(..., help="the alert's id"),
    note: str = typer.Option(..., "--note", help="what was done or decided"),
    by: str | None = typer.Option(None, "--by", help="who acknowledges (default: $USER)"),
) -> None:
    """Acknowledge an alert: it stays acknowledged, with the note, until resolved."""
    from metareg.oversight import alerts

    try:
        with options(ctx).engine().begin() as connection:
            alert = alerts.acknowledge(connection, alert_id, note, by=by or os.environ.get("USER"))
    except alerts.AlertError as error:
        raise fail(str(error)) from error
    console.print(f"alert {alert['id']} ({alert['rule']}) acknowledged")


# -- webhooks ----------------------------------------------------------------------------


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@webhooks_app.command("list")
def webhooks_list(
    ctx: typer.Context, output: str = typer.Option("table", "--format", "-f", help="table or json")
) -> None:
    """List the subscriptions (never their secrets) and the deliveries by status."""
    from rich.table import Table

    from metareg.alerts.webhooks import subscriptions as subs
    from metareg.alerts.webhooks.delivery import deliveries_summary

    check_format(output)
    engine = options(ctx).engine()
    with engine.connect() as connection:
        found = subs.list_subscriptions(connection)
    if output == "json":
        echo_json({"subscriptions": found, "deliveries": deliveries_summary(engine)})
        return
    table = Table("name", "url", "filters", "active", "origin")
    for sub in found:
        filters = "; ".join(
            f"{name}={','.join(sub[name])}"
            for name in ("rules", "severities", "cooperative_approach_ids", "registries")
            if sub[name]
        )
        table.add_row(sub["id"], sub["url"], filters or "all", str(sub["active"]), sub["origin"])
    console.print(table)
    console.print(f"deliveries: {deliveries_summary(engine) or 'none'}")


@webhooks_app.command("add")
def webhooks_add(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    url: str = typer.Option(..., "--url"),
    secret_env: str = typer.Option(
        ..., "--secret-env", help="environment variable holding the signing secret"
    ),
    rule: list[str] | None = typer.Option(None, "--rule", help="only these rules (repeatable)"),
    severity: list[str] | None = typer.Option(None, "--severity"),
    cooperative_approach: list[str] | None = typer.Option(None, "--ca"),
    registry: list[str] | None = typer.Option(None, "--registry"),
    allow_private: bool = typer.Option(
        False, "--allow-private", help="allow loopback/private targets (tests, internal hooks)"
    ),
) -> None:
    """Add (or replace) a webhook subscription. The secret is read from an environment
    variable so it never appears in shell history or process lists."""
    from metareg.alerts.webhooks import subscriptions as subs

    secret = os.environ.get(secret_env)
    if not secret:
        raise fail(f"environment variable {secret_env} is not set")
    subscription = subs.Subscription(
        id=name,
        url=url,
        secret=secret,
        rules=_split(rule),
        severities=_split(severity),
        cooperative_approach_ids=_split(cooperative_approach),
        registries=_split(registry),
        allow_private=allow_private,
    )
    try:
        with options(ctx).engine(create=True).begin() as connection:
            subs.save_subscription(connection, subscription)
    except subs.SubscriptionError as error:
        raise fail(str(error)) from error
    console.print(f"webhook {name} saved")


@webhooks_app.command("remove")
def webhooks_remove(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Remove a subscription (its pending deliveries fail when due)."""
    from metareg.alerts.webhooks import subscriptions as subs

    with options(ctx).engine().begin() as connection:
        if not subs.remove_subscription(connection, name):
            raise fail(f"no webhook named {name!r}")
    console.print(f"webhook {name} removed")


@webhooks_app.command("sync")
def webhooks_sync(
    ctx: typer.Context,
    path: Path | None = typer.Option(None, "--file", help="default: <config>/webhooks.toml"),
) -> None:
    """Make the configured subscriptions agree with config/webhooks.toml."""
    from metareg.alerts.webhooks import subscriptions as subs

    source = path or options(ctx).config / "webhooks.toml"
    try:
        configured = subs.load_config(source)
        with options(ctx).engine(create=True).begin() as connection:
            result = subs.sync_config(connection, configured)
    except subs.SubscriptionError as error:
        raise fail(str(error)) from error
    console.print(f"{source}: {result['saved']} saved, {result['removed']} removed")


@webhooks_app.command("deliver")
def webhooks_deliver(ctx: typer.Context) -> None:
    """Deliver every due webhook now (the scheduler does this periodically)."""
    from metareg.alerts.webhooks.delivery import deliver_due, deliveries_summary

    engine = options(ctx).engine()
    delivered = deliver_due(engine)
    console.print(f"{delivered} delivered; deliveries: {deliveries_summary(engine) or 'none'}")
