"""Hostile AEF and tabular files: each is refused with a clear error (or its bad row is
quarantined), and what the index already holds does not change.

Every file is built here, in the test: a workbook whose sheet XML carries a
billion-laughs DTD, a zip bomb, a sheet of a million empty rows, a megabyte cell,
garbage bytes named .xlsx, a workbook without any AEF table. (Formula payloads through
the API's CSV/XLSX exports: tests/api/test_aef_export.py.)
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine

from metareg.connectors.aef.columns import ACTIONS, record_to_row
from metareg.connectors.aef.reader import MAX_UNZIPPED_BYTES, AefReadError, read_aef
from metareg.oversight.aef import FORMULA_TRIGGERS, neutralise
from metareg.registries import RegistryConfig
from metareg.sync.engine import sync_registry
from tests.connectors.test_aef import ACTION
from tests.sync.index_state import current, history

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)
SHEET = "xl/worksheets/sheet1.xml"


def workbook(rows: list[list[Any]], labels: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Actions"
    sheet.append(ACTIONS.labels() if labels is None else labels)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_workbook() -> bytes:
    return workbook([record_to_row(ACTIONS, ACTION)])


def rewrite(content: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook with one member's bytes changed."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(data) if info.filename == member else data)
    return out.getvalue()


def billion_laughs(data: bytes) -> bytes:
    body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
    for tag in (b"<v>", b"<t>"):
        if tag in body:
            return LAUGHS + body.replace(tag, tag + b"&lol4;", 1)
    return LAUGHS + body


def million_empty_rows(data: bytes) -> bytes:
    """A million `<row/>` elements after the data, the dimension saying so (as Excel
    writes a sheet whose formatting reaches the bottom)."""
    empty = b"".join(b'<row r="%d"/>' % n for n in range(3, 1_000_003))
    head, rest = data.split(b"<sheetData>", 1)
    head = re.sub(
        rb'<dimension ref="A1:([A-Z]+)2" ?/>', rb'<dimension ref="A1:\g<1>1000002"/>', head
    )
    assert b"1000002" in head
    return head + b"<sheetData>" + rest.replace(b"</sheetData>", empty + b"</sheetData>")


def zip_bomb() -> bytes:
    """A valid workbook plus one member of zeros larger than the decompression limit
    (a few hundred kilobytes on the wire)."""
    out = io.BytesIO(good_workbook())
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        info = zipfile.ZipInfo("xl/media/padding.bin")
        info.compress_type = zipfile.ZIP_DEFLATED
        chunk = bytes(4 * 1024 * 1024)
        with archive.open(info, "w", force_zip64=True) as member:
            for _ in range(MAX_UNZIPPED_BYTES // len(chunk) + 1):
                member.write(chunk)
    return out.getvalue()


def no_aef_table() -> bytes:
    return workbook([["a", "b", "c"]], labels=["Name", "Colour", "Size"])


HOSTILE: dict[str, Callable[[], bytes]] = {
    "billion-laughs-in-sheet": lambda: rewrite(good_workbook(), SHEET, billion_laughs),
    "billion-laughs-in-workbook": lambda: rewrite(
        good_workbook(), "xl/workbook.xml", billion_laughs
    ),
    "zip-bomb": zip_bomb,
    "million-empty-rows": lambda: rewrite(good_workbook(), SHEET, million_empty_rows),
    "garbage-named-xlsx": lambda: b"\x00\xffnot a workbook at all\x13" * 500,
    "zip-garbage-named-xlsx": lambda: b"PK\x03\x04" + bytes(range(256)) * 8,
    "no-aef-table": no_aef_table,
}


def aef_registry(path: Path) -> RegistryConfig:
    return RegistryConfig(
        "IDN01", "Indonesia", "IDN", {"connector": {"type": "aef", "path": str(path)}}
    )


@pytest.fixture
def stored(sqlite_engine: Engine, tmp_path: Path) -> tuple[Engine, Path]:
    """An index holding IDN01's record from a good AEF workbook."""
    path = tmp_path / "aef.xlsx"
    path.write_bytes(good_workbook())
    first = sync_registry(sqlite_engine, aef_registry(path))
    assert first.ok and first.counts.accepted == 1, first.error
    return sqlite_engine, path


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_workbook_is_refused_and_the_index_is_unchanged(
    stored: tuple[Engine, Path], kind: str
) -> None:
    engine, path = stored
    before = current(engine), history(engine)
    content = HOSTILE[kind]()
    if kind != "million-empty-rows":  # read once only: a million rows take seconds
        with pytest.raises(AefReadError) as raised:
            read_aef(content, "hostile.xlsx")
        assert str(raised.value)  # a sentence, not an empty error
    path.write_bytes(content)
    result = sync_registry(engine, aef_registry(path))
    assert not result.ok and result.error, kind
    assert (current(engine), history(engine)) == before, kind


def test_megabyte_cell_is_a_row_problem_not_a_truncated_record(
    stored: tuple[Engine, Path],
) -> None:
    engine, path = stored
    before = current(engine), history(engine)
    huge = record_to_row(ACTIONS, {**ACTION, "action_id": "FT-9"})
    huge[ACTIONS.labels().index("Article 6 database record ID")] = "FT-" + "9" * 1_000_000
    rows = read_aef(workbook([record_to_row(ACTIONS, ACTION), huge]), "a.xlsx")
    assert rows[0].record == ACTION
    assert rows[1].record is None and "characters" in rows[1].problems[0]
    # Synced, the good row is unchanged and the hostile one quarantined: nothing stored moves.
    path.write_bytes(workbook([record_to_row(ACTIONS, ACTION), huge]))
    result = sync_registry(engine, aef_registry(path))
    assert result.ok and result.counts.quarantined == 1
    assert (current(engine), history(engine)) == before


def test_hostile_csv_is_refused_with_a_reason() -> None:
    with pytest.raises(AefReadError, match="UTF-8"):
        read_aef(b"Action type,Action date\n\xff\xfe\x00bad", "a.csv")
    with pytest.raises(AefReadError, match="header"):
        read_aef(b"=cmd|' /C calc'!A0,b,c\n1,2,3\n", "a.csv")
    with pytest.raises(AefReadError):
        read_aef(b"\x00" * 10_000, "a.csv")


FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("payload", FORMULAS)
def test_formula_payloads_are_neutralised(payload: str) -> None:
    out = neutralise(payload)
    assert isinstance(out, str) and not out.startswith(FORMULA_TRIGGERS)
    assert payload in out  # the text is kept, only defused
    assert neutralise(-5) == -5  # numbers are not text: a negative stays a number


def test_rows_beyond_the_declared_sheet_size_are_read_not_dropped(
    stored: tuple[Engine, Path],
) -> None:
    """A sheet whose `<dimension>` says `A1` (some generators write that) still lists its
    rows; read as empty it would withdraw every record the registry reported."""
    engine, path = stored
    second = {**ACTION, "action_id": "FT-6", "first_id": 60001, "last_id": 60010}
    second["quantity_tco2e"] = 10
    rows = [record_to_row(ACTIONS, ACTION), record_to_row(ACTIONS, second)]

    def lying(data: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1"/>', data)

    content = rewrite(workbook(rows), SHEET, lying)
    assert b'<dimension ref="A1"/>' in zipfile.ZipFile(io.BytesIO(content)).read(SHEET)
    assert [row.record for row in read_aef(content, "a.xlsx")] == [ACTION, second]
    path.write_bytes(content)
    result = sync_registry(engine, aef_registry(path))
    assert result.ok and result.counts.withdrawn == 0 and result.counts.accepted == 1
    assert {uid for _, _, uid, _ in current(engine)} == {"FT-5", "FT-6"}
