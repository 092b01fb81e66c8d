"""`metareg show IDENTIFIER`: everything the index knows about a unit or block
(`metareg.oversight.itmos.describe_itmo`, what `GET /v1/itmos/{identifier}` answers)."""

from __future__ import annotations

from typing import Any

import typer

from metareg.cli.context import check_format, console, echo_json, fail, options


def _summary(record: dict[str, Any]) -> str:
    if record["record_type"] == "action":
        parts = [record["action_type"], record["action_date"]]
        for key in ("acquiring_party_id", "transferring_party_id", "purpose", "authorization_id"):
            if record.get(key):
                parts.append(f"{key.removesuffix('_id')}={record[key]}")
        return " ".join(parts)
    return f"{record['account_type']} account {record['account_id']} as of {record['as_of']}"


def show(
    ctx: typer.Context,
    identifier: str = typer.Argument(..., help="e.g. CA0001-IDN01-IDN-1001-2000-2023"),
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """Print the current records covering a unit or block, each with its history.

    Exit 2 when no current record covers it (with --format json, what the index knows
    of it all the same is printed first)."""
    check_format(output)
    from rich.table import Table

    from metareg.oversight.itmos import NotInIndex, describe_itmo
    from metareg.records.identifiers import IdentifierError, parse_itmo

    try:
        parse_itmo(identifier)  # before the database is opened: a typo touches nothing
    except IdentifierError as error:
        raise fail(str(error)) from error
    try:
        with options(ctx).engine().connect() as connection:
            described = describe_itmo(connection, identifier)
    except NotInIndex as missing:
        if output == "json":
            echo_json(missing.described)
        raise fail(
            f"{missing.described['identifier']} is not in the index: no current record "
            "of any registry covers it"
        ) from None
    if output == "json":
        echo_json(described)
        return
    records = described["records"]
    # RECORDS.md: every output marks a provisional cooperative approach (CAP-...).
    provisional = " (provisional cooperative approach)" if described["block"]["provisional"] else ""
    table = Table(title=f"{described['identifier']}{provisional}: {len(records)} current record(s)")
    table.add_column("registry", no_wrap=True)
    for name in ("record", "block", "what", "history"):
        table.add_column(name, overflow="fold")  # ids are shown whole, folded if need be
    for item in records:
        record = item["record"]
        history = "\n".join(
            f"{h['received_at'][:19]} {h['change']} from {h['source']}" for h in item["history"]
        )
        table.add_row(
            item["registry"],
            f"{item['record_type']} {item['record_id']}",
            f"{record['first_id']}-{record['last_id']} v{record['vintage']} "
            f"{record['first_transferring_party_id']}",
            _summary(record),
            history,
        )
    console.print(table)
    for auth in described["authorizations"]:
        record = auth["record"]
        console.print(
            f"authorization {record['authorization_id']} v{record['version']} by "
            f"{record['authorizing_party_id']} ({auth['registry']}): "
            f"purposes {', '.join(record.get('purposes', [])) or 'none'}, status {record['status']}"
        )
