"""`metareg quarantine list|show|reprocess|dismiss`: review what the index refused.

Each entry: its registry, source (file, or `sync:REGISTRY`), location (line, sheet
row, page row), every reason (the rule that failed and why), status and review note.
`reprocess` maps unreviewed entries again with the CURRENT source profile (after a
mapping fix) and moves those that pass into the index; `dismiss` marks entries reviewed
with a note. SY03 resolves once none of a registry's entries remain unreviewed.
"""

from __future__ import annotations

import json
import os

import typer

from metareg.cli.context import console, fail, options

app = typer.Typer(
    rich_markup_mode=None,
    help="Review quarantined input: list, show, reprocess after a mapping fix, dismiss.",
    no_args_is_help=True,
)


def _format(output: str) -> str:
    if output not in ("table", "json"):
        raise fail("--format must be table or json")
    return output


def _reasons(entry: dict[str, object]) -> str:
    reasons = entry["reasons"]
    assert isinstance(reasons, list)
    return "; ".join(f"{r.get('path')}: {r.get('message')}" for r in reasons)


@app.command("list")
def list_entries(
    ctx: typer.Context,
    status: str = typer.Option(
        "unreviewed", "--status", help="unreviewed, reviewed, reprocessed or all"
    ),
    registry: str | None = typer.Option(None, "--registry", "-r", help="a registry id"),
    source: str | None = typer.Option(None, "--source", help="a file path or sync:REGISTRY"),
    limit: int = typer.Option(100, "--limit", min=1, help="entries a page (at most 1000)"),
    after: int = typer.Option(0, "--after", min=0, help="entries after this id (next page)"),
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """The quarantine entries (default: those awaiting review), oldest first."""
    from rich.table import Table

    from metareg.oversight import quarantine as service

    if limit > service.MAX_LIMIT:
        raise fail(f"--limit must be at most {service.MAX_LIMIT}")

    _format(output)
    if status != "all" and status not in service.STATUSES:
        raise fail(f"--status must be all or one of {', '.join(service.STATUSES)}")
    with options(ctx).engine().connect() as connection:
        found = service.list_quarantine(
            connection,
            status=None if status == "all" else status,
            registry_id=registry,
            source=source,
            limit=limit,
            after_id=after,
        )
    if output == "json":
        typer.echo(json.dumps(found, indent=2))
        return
    if not found:
        console.print(f"no {'' if status == 'all' else status + ' '}quarantine entries")
        return
    table = Table("id", "registry", "source", "location", "status", "reasons", title="quarantine")
    for entry in found:
        table.add_row(
            str(entry["id"]),
            entry["registry_id"] or "-",
            entry["source"],
            entry["location"],
            entry["status"],
            _reasons(entry),
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    entry_id: int = typer.Argument(..., help="the entry's id (`metareg quarantine list`)"),
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """One entry with its input exactly as received and every reason."""
    from metareg.oversight import quarantine as service

    _format(output)
    with options(ctx).engine().connect() as connection:
        entry = service.show_quarantine(connection, entry_id)
    if entry is None:
        raise fail(f"no quarantine entry {entry_id}")
    if output == "json":
        typer.echo(json.dumps(entry, indent=2))
        return
    for key in ("id", "registry_id", "source", "location", "status", "received_at", "profile"):
        console.print(f"{key}: {entry[key]}", highlight=False, markup=False)
    console.print("reasons:")
    for reason in entry["reasons"]:
        console.print(f"  {reason['path']}: {reason['message']}", highlight=False, markup=False)
    if entry["reviewed_at"]:
        console.print(
            f"reviewed: {entry['reviewed_at']} by {entry['reviewed_by']}: {entry['note']}",
            highlight=False,
            markup=False,
        )
    console.print("input as received:")
    console.print(entry["raw"], highlight=False, markup=False, soft_wrap=True)


@app.command("reprocess")
def reprocess(
    ctx: typer.Context,
    entry_ids: list[int] = typer.Argument(None, help="entry ids (default: every unreviewed)"),
    registry: str | None = typer.Option(None, "--registry", "-r", help="only this registry's"),
    by: str | None = typer.Option(None, "--by", help="who reprocesses (default: $USER)"),
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """Map unreviewed entries again with the current profiles; those that pass go into the
    index. Exit 0 when none still fails, 1 otherwise."""
    from metareg.oversight import quarantine as service

    _format(output)
    opts = options(ctx)
    try:
        report = service.reprocess_entries(
            opts.engine(),
            entry_ids or None,
            registry,
            by or os.environ.get("USER") or "cli",
            opts.config,
        )
    except service.QuarantineError as error:
        raise fail(str(error)) from error
    if output == "json":
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        console.print(
            f"{len(report.accepted)} now in the index, {len(report.skipped)} skipped by the "
            f"current mapping, {len(report.still_failing)} still quarantined"
        )
        for entry_id, problems in report.still_failing.items():
            for problem in problems:
                console.print(
                    f"  {entry_id}: {problem}", highlight=False, markup=False, soft_wrap=True
                )
    if report.still_failing:
        raise typer.Exit(1)


@app.command("dismiss")
def dismiss(
    ctx: typer.Context,
    entry_ids: list[int] = typer.Argument(..., help="entry ids"),
    note: str = typer.Option(..., "--note", help="what was checked or decided"),
    by: str | None = typer.Option(None, "--by", help="who reviews (default: $USER)"),
    output: str = typer.Option("table", "--format", "-f", help="table or json"),
) -> None:
    """Mark entries reviewed, with a note (who and when are kept)."""
    from metareg.oversight import quarantine as service

    _format(output)
    try:
        count = service.dismiss_entries(
            options(ctx).engine(), entry_ids, note, by or os.environ.get("USER") or "cli"
        )
    except service.QuarantineError as error:
        raise fail(str(error)) from error
    if output == "json":
        typer.echo(json.dumps({"dismissed": count}))
    else:
        console.print(f"{count} entr{'y' if count == 1 else 'ies'} marked reviewed")
