"""Reading AEF tables 2-4 from XLSX workbooks (the UNFCCC/UNDP template layout) or CSV.

The header row is found by its labels (`columns.py`), not by position, so the template's
heading block, title and group rows above it are skipped, and the table is recognised
from its labels (actions have "Action type"; authorizations "Authorization ID" without
ITMO identifiers; holdings the ITMO block alone). Each data row becomes a canonical record
with `columns.row_to_record`, or a row with the reasons it cannot be read.

Untrusted input: openpyxl parses the XML through defusedxml (installed), workbooks are
opened read-only, and the decompressed size, rows, columns and cell length are bounded.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from metareg.connectors.aef.columns import (
    ACTIONS,
    AUTHORIZATIONS,
    HOLDINGS,
    AefContext,
    AefRowError,
    AefTable,
    header_index,
    normalize_label,
    row_to_record,
)

MAX_ROWS = 500_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 32_767  # Excel's own cell limit
MAX_UNZIPPED_BYTES = 500 * 1024 * 1024
HEADER_SCAN_ROWS = 40
MIN_HEADER_MATCHES = 3


class AefReadError(ValueError):
    """The file cannot be read as AEF tables at all."""


@dataclass
class AefRow:
    table: AefTable
    location: str  # "Actions!R12" / "line 12"
    cells: dict[str, Any]
    record: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


def _table_for(labels: set[str]) -> AefTable | None:
    def matches(table: AefTable) -> int:
        return sum(1 for column in table.columns if any(column.matches(x) for x in labels))

    if {"action type", "action date"} & labels:
        return ACTIONS
    has_itmo = {"first unique identifier", "vintage", "first id"} & labels
    if not has_itmo and matches(AUTHORIZATIONS) >= MIN_HEADER_MATCHES:
        return AUTHORIZATIONS
    if has_itmo and matches(HOLDINGS) >= MIN_HEADER_MATCHES:
        return HOLDINGS
    return None


def _fill_merged(header: list[Any], above: list[list[Any]]) -> list[Any]:
    """A header cell under a vertically merged label (the templates merge "Article 6
    database record ID", "Cooperative approach" and "First transfer definition" over the
    group rows) is empty in the label row: take the label from the rows just above."""
    filled = list(header)
    for index, value in enumerate(filled):
        if value not in (None, ""):
            continue
        for row in reversed(above[-2:]):
            if index < len(row) and row[index] not in (None, ""):
                filled[index] = row[index]
                break
    return filled


def _heading(rows: list[list[Any]], context: AefContext) -> AefContext:
    """Party and reported year from the 'Table 1: Heading' block above the header."""
    party, year = context.party_id, context.reported_year
    for row in rows:
        if len(row) < 2 or row[1] in (None, ""):
            continue
        label = normalize_label(row[0]) if row[0] is not None else ""
        value = str(row[1]).strip()
        if label == "party" and len(value) == 3 and value.isalpha() and value.isupper():
            party = value
        elif label == "reported year" and value.isdigit():
            year = int(value)
    return AefContext(party, year)


def _rows_of(
    table: AefTable,
    header: list[Any],
    body: Iterator[tuple[int, list[Any]]],
    context: AefContext,
    where: str,
) -> Iterator[AefRow]:
    positions = header_index(header, table)
    for number, values in body:
        if all(v in (None, "") for v in values):
            continue
        cells = {label: values[i] for i, label in positions.items() if i < len(values)}
        row = AefRow(table, f"{where}{number}", cells)
        # openpyxl silently cuts a longer cell to Excel's limit, so a cell AT the limit may
        # be the truncated head of a hostile megabyte: refuse it rather than store half.
        long = [
            label for label, v in cells.items() if isinstance(v, str) and len(v) >= MAX_CELL_CHARS
        ]
        if long:
            row.problems.append(
                f"cell(s) of {MAX_CELL_CHARS} characters or more (possibly truncated): {long}"
            )
        else:
            try:
                row.record = row_to_record(table, cells, context)
            except AefRowError as error:
                row.problems.extend(error.reasons)
        yield row


def check_workbook_size(content: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as error:
        raise AefReadError(f"not an XLSX workbook: {error}") from error
    total = sum(info.file_size for info in archive.infolist())
    if total > MAX_UNZIPPED_BYTES:
        raise AefReadError(f"workbook expands to {total} bytes (limit {MAX_UNZIPPED_BYTES})")


def ignore_declared_size(sheet: Any) -> None:
    """Read every row the sheet holds, not only those its `<dimension>` declares: in
    read-only mode openpyxl stops at the declared size, so a workbook whose generator
    wrote `A1` would read as an empty table, and an empty listing withdraws everything.
    MAX_ROWS still bounds the reading."""
    reset = getattr(sheet, "reset_dimensions", None)
    if reset is not None:
        reset()


def read_xlsx(content: bytes, context: AefContext | None = None) -> list[AefRow]:
    """Every AEF table row of every sheet of a workbook."""
    check_workbook_size(content)
    context = context or AefContext()
    try:
        import openpyxl  # here, not at import: every connector lookup would pay ~0.5 s

        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a broken workbook
        raise AefReadError(f"cannot open workbook: {type(error).__name__}: {error}") from error
    rows: list[AefRow] = []
    found = False
    try:
        for sheet in workbook.worksheets:
            ignore_declared_size(sheet)
            iterator = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
            above: list[list[Any]] = []
            table: AefTable | None = None
            header: list[Any] = []
            for number, values in enumerate(iterator, start=1):
                as_list = list(values)
                if table is None:
                    labels = {normalize_label(v) for v in as_list if v not in (None, "")}
                    table = _table_for(labels) if len(labels) >= MIN_HEADER_MATCHES else None
                    if table is None:
                        above.append(as_list)
                        if number >= HEADER_SCAN_ROWS:
                            break
                        continue
                    found = True
                    header = _fill_merged(as_list, above)
                    sheet_context = _heading(above, context)
                    rows.extend(
                        _rows_of(
                            table,
                            header,
                            _numbered(iterator, number, sheet.title),
                            sheet_context,
                            f"{sheet.title}!R",
                        )
                    )
                    break
    finally:
        workbook.close()
    if not found:
        # Without this a workbook with no AEF table reads as an empty listing, and the
        # file connector would withdraw every record the registry reported before.
        raise AefReadError("no AEF table header found in any sheet (labels as in the templates)")
    return rows


def _numbered(iterator: Iterator[Any], after: int, sheet: str) -> Iterator[tuple[int, list[Any]]]:
    for offset, values in enumerate(iterator, start=1):
        if offset > MAX_ROWS:
            raise AefReadError(f"sheet {sheet} has more than {MAX_ROWS} rows")
        yield after + offset, list(values)


def read_csv(content: bytes, context: AefContext | None = None) -> list[AefRow]:
    """One AEF table as CSV (header labels as in the templates; heading lines allowed)."""
    context = context or AefContext()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AefReadError(f"CSV is not UTF-8: {error.reason} at byte {error.start}") from error
    reader = csv.reader(io.StringIO(text, newline=""))
    above: list[list[Any]] = []
    try:
        for number, values in enumerate(reader, start=1):
            labels = {normalize_label(v) for v in values if v.strip()}
            table = _table_for(labels) if len(labels) >= MIN_HEADER_MATCHES else None
            if table is not None:
                body = ((n, list(v)) for n, v in enumerate(reader, start=number + 1))
                return list(
                    _rows_of(table, values, _bounded(body), _heading(above, context), "line ")
                )
            above.append(values)
            if number >= HEADER_SCAN_ROWS:
                break
    except csv.Error as error:
        raise AefReadError(f"malformed CSV: {error}") from error
    raise AefReadError("no AEF table header found (labels as in the AEF templates)")


def _bounded(body: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    for count, item in enumerate(body, start=1):
        if count > MAX_ROWS:
            raise AefReadError(f"more than {MAX_ROWS} rows")
        yield item


def read_aef(content: bytes, name: str, context: AefContext | None = None) -> list[AefRow]:
    """XLSX or CSV by name (or by the ZIP signature when the name says neither)."""
    lowered = name.lower()
    if lowered.endswith((".xlsx", ".xlsm")) or (
        not lowered.endswith(".csv") and content[:4] == b"PK\x03\x04"
    ):
        return read_xlsx(content, context)
    return read_csv(content, context)
