"""The AEF both ways on the real UNDP templates (shared/data/real/aef/undp/): a Party fills
them (with a column of its own), `metareg ingest --source aef-undp` loads them, `GET
/v1/aef/{party}/{year}?format=xlsx` writes them back, and the test compares the export
cell by cell with the template's layout using openpyxl (header rows, merged header
cells, column order, every cell the Party supplied); reading the export back changes
nothing, and each record keeps its reporting registry. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from metareg.cli import app
from metareg.connectors.aef.columns import normalize_label
from tests.api.conftest import make_api
from tests.conftest import NO_REAL_DATA, REAL_DATA
from tests.connectors.test_profiles_real import UNDP_ACTIONS, _fill

UNDP = REAL_DATA / "aef" / "undp"
pytestmark = pytest.mark.skipif(not UNDP.is_dir(), reason=NO_REAL_DATA)
runner = CliRunner()
REMARKS = ["first tranche", "sold to Japan", None]  # the Party's own column, after Z


def _cli(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db_url, *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def _filled(tmp_path: Path) -> tuple[Path, Path]:
    actions = _fill(
        UNDP / "aef_actions_template.xlsx",
        "Actions",
        11,
        [[*row, remark] for row, remark in zip(UNDP_ACTIONS, REMARKS, strict=True)],
        tmp_path / "actions.xlsx",
        B3="Mongolia",
        B4=2024,
        AA10="Remarks",
    )
    holdings = _fill(
        UNDP / "aef_holdings_template.xlsx",
        "Holdings",
        7,
        [row[:19] for row in UNDP_ACTIONS],
        tmp_path / "holdings.xlsx",
    )
    return actions, holdings


def _counts(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table: [
                tuple(r)
                for r in connection.execute(
                    text(f"SELECT registry_id, uid, content_hash FROM {table} ORDER BY 1, 2")
                )
            ]
            for table in ("actions", "holdings", "authorizations")
        }


def _header(sheet: Any, rows: range, width: int) -> list[list[Any]]:
    return [
        [
            normalize_label(v) if isinstance(v, str) else v
            for v in (sheet.cell(r, c).value for c in range(1, width + 1))
        ]
        for r in rows
    ]


def _data(sheet: Any, first: int, width: int) -> dict[tuple[Any, Any], list[Any]]:
    """Data rows by (record id, first unique identifier), each its cells A..width."""
    out = {}
    for r in range(first, sheet.max_row + 1):
        cells = [sheet.cell(r, c).value for c in range(1, width + 1)]
        if any(v is not None for v in cells):
            out[(cells[0], cells[2])] = cells
    return out


def _merged(sheet: Any, width: int) -> set[str]:
    return {str(m) for m in sheet.merged_cells.ranges if m.max_col <= width}


def test_undp_templates_round_trip(engine: Engine, db_url: str, tmp_path: Path) -> None:
    actions, holdings = _filled(tmp_path)
    # The Party's actions come from its second registry: the export must keep that.
    code, out = _cli(db_url, "ingest", str(actions), "--source", "aef-undp", "-r", "MNG02")
    assert code == 0, out
    code, out = _cli(
        db_url, "ingest", str(holdings), "--source", "aef-undp", "--param", "reported_year=2024"
    )
    assert code == 0, out
    before = _counts(engine)
    assert {r[0] for r in before["actions"]} == {"MNG02"}
    assert {r[0] for r in before["holdings"]} == {"MNG01"}
    assert len(before["authorizations"]) == 1

    for api in make_api(engine, tmp_path):
        answer = api.client.get("/v1/aef/MNG/2024?format=xlsx", headers=api.oversight)
        assert answer.status_code == 200, answer.text
    exported = tmp_path / "aef_MNG_2024.xlsx"
    exported.write_bytes(answer.content)
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert workbook.sheetnames == [
        "Submission",
        "Authorizations",
        "Actions",
        "Holdings",
        "Authorized entities",
    ]

    for name, source, labels_at, width in (
        ("Actions", actions, 10, 26),
        ("Holdings", holdings, 6, 19),
    ):
        template = openpyxl.load_workbook(UNDP / f"aef_{name.lower()}_template.xlsx")[name]
        filled = openpyxl.load_workbook(source)[name]
        got = workbook[name]
        # The template's layout: its header rows at its places (with the Party's heading
        # as the Party filled it), its merged header cells.
        assert _header(got, range(1, labels_at + 1), width) == _header(
            filled, range(1, labels_at + 1), width
        ), name
        assert _merged(got, width) == _merged(template, width), name
        # Every cell the Party supplied, as supplied (rows in the export's order).
        assert _data(got, labels_at + 1, width) == _data(filled, labels_at + 1, width), name

    actions_sheet = workbook["Actions"]
    labels = [c.value for c in actions_sheet[10]]
    # The Party's own column follows the template's, its values kept; then metareg's.
    assert labels[26] == "Remarks"
    remarks = {
        actions_sheet.cell(r, 3).value: actions_sheet.cell(r, 27).value for r in range(11, 14)
    }
    assert remarks == {row[2]: remark for row, remark in zip(UNDP_ACTIONS, REMARKS, strict=True)}
    registry_column = labels.index("Reporting registry") + 1
    assert {actions_sheet.cell(r, registry_column).value for r in range(11, 14)} == {"MNG02"}
    assert workbook["Submission"]["B2"].value == "MNG"
    assert workbook["Submission"]["B4"].value == 2024

    # The command line writes the same workbook.
    code, out = _cli(db_url, "aef", "MNG", "2024", "-o", str(tmp_path / "cli.xlsx"))
    assert code == 0, out
    from_cli = openpyxl.load_workbook(tmp_path / "cli.xlsx")
    for name in ("Actions", "Holdings"):
        assert [[c.value for c in row] for row in from_cli[name].iter_rows()] == [
            [c.value for c in row] for row in workbook[name].iter_rows()
        ]

    # Read back: the same records, each under its registry; nothing new, nothing merged.
    code, out = _cli(db_url, "ingest", str(exported), "--source", "aef-undp")
    assert code == 0, out
    assert "accepted=0 corrected=0" in out and "withdrawn=0" in out, out
    assert _counts(engine) == before
