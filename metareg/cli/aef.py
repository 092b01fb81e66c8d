"""`metareg aef PARTY YEAR`: the Agreed Electronic Format of a Party and reported year, as
`GET /v1/aef/{party}/{year}` gives it (XLSX in the UNDP templates' layout, a zip of
CSVs, or JSON), written to a file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from metareg.cli.context import console, fail, options


def aef(
    ctx: typer.Context,
    party: str = typer.Argument(..., help="ISO 3166 alpha-3 code, e.g. MNG"),
    year: int = typer.Argument(..., min=2000, max=2100, help="the reported year"),
    output: str = typer.Option("xlsx", "--format", "-f", help="xlsx, csv (a zip) or json"),
    to: Path | None = typer.Option(
        None, "--output", "-o", help="file to write (default: aef_PARTY_YEAR.xlsx/.zip/.json)"
    ),
) -> None:
    """Write the Party's AEF tables for the year; the XLSX reads back with
    `metareg ingest FILE --source aef-undp` to the same records."""
    from metareg.oversight.aef import build_aef, to_csv_zip, to_xlsx
    from metareg.oversight.alerts import rule_codes_by_record

    if not re.fullmatch(r"[A-Z]{3}", party):
        raise fail("PARTY must be an ISO 3166 alpha-3 code in capitals, e.g. MNG")
    if output not in ("xlsx", "csv", "json"):
        raise fail("--format must be xlsx, csv or json")
    with options(ctx).engine().connect() as connection:
        report = build_aef(connection, party, year, checks=rule_codes_by_record)
    suffix = {"xlsx": "xlsx", "csv": "zip", "json": "json"}[output]
    path = to or Path(f"aef_{party}_{year}.{suffix}")
    if output == "xlsx":
        path.write_bytes(to_xlsx(report))
    elif output == "csv":
        path.write_bytes(to_csv_zip(report))
    else:
        path.write_text(json.dumps(report.as_json(), indent=2, default=str), "utf-8")
    rows = {sheet.table.sheet: len(sheet.rows) for sheet in report.sheets}
    console.print(f"wrote {path}: {rows}", highlight=False, markup=False)
