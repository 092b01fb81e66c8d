"""Reading a source's rows for a profile: CSV, XLSX sheets, JSON record lists and columnar
(coded) JSON.

Each row comes with where it is (`line 12`, `Actions!R11`, `$.data[3]`, `$.c.*[17]`),
its cells (tabular headers compared by `label_key`; JSON keys as they are), and its raw
text for the quarantine and the record history. A text cell the profile lists under
`input.null` is no value. What cannot be read at all raises `SourceError`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from metareg.connectors.mapping.errors import SourceError
from metareg.connectors.mapping.expressions import label_key

MAX_ROWS = 500_000
MAX_COLUMNS = 200


@dataclass(frozen=True)
class InputSpec:
    format: str
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    null: frozenset[str] = frozenset({""})
    rows: tuple[str, ...] = ("$",)
    columnar: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SheetSpec:
    """Where one table's rows are in a workbook."""

    table: str
    sheet: str | None
    header_row: int = 1
    header_rows: int = 1
    cells: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SourceRow:
    location: str
    values: dict[str, Any]
    raw: str
    table: str | None = None  # known for sheets; JSON rows are assigned by `when`
    cells: Mapping[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # unreadable: quarantined with these


def _raw(pairs: Mapping[str, Any]) -> str:
    return orjson.dumps(
        {str(k): v for k, v in pairs.items() if v not in (None, "")},
        option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS,
        default=str,
    ).decode()


def _clean(value: Any, null: frozenset[str]) -> Any:
    if isinstance(value, str):
        text = value.strip()
        return None if text in null else text
    return value


def read_csv(content: bytes, spec: InputSpec) -> Iterator[SourceRow]:
    try:
        text = content.decode(spec.encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise SourceError(f"cannot decode as {spec.encoding}: {error}") from error
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        keys = [label_key(label) for label in header]
        start = reader.line_num + 1
        for count, cells in enumerate(reader, start=1):
            if count > MAX_ROWS:
                raise SourceError(f"more than {MAX_ROWS} rows")
            if not any(cell.strip() for cell in cells):
                start = reader.line_num + 1
                continue
            if len(cells) > len(header):
                extra = [c for c in cells[len(header) :] if c.strip()]
                if extra:
                    raise SourceError(f"line {start}: more cells than columns: {extra!r}")
            values = {k: _clean(v, spec.null) for k, v in zip(keys, cells, strict=False)}
            raw = _raw(dict(zip(header, cells, strict=False)))
            yield SourceRow(f"line {start}", values, raw)
            start = reader.line_num + 1
    except csv.Error as error:
        raise SourceError(f"malformed CSV at line {reader.line_num}: {error}") from error


def read_xlsx(content: bytes, sheets: Sequence[SheetSpec], spec: InputSpec) -> Iterator[SourceRow]:
    import openpyxl

    from metareg.connectors.aef.reader import check_workbook_size, ignore_declared_size

    try:
        check_workbook_size(content)
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a broken workbook
        raise SourceError(f"cannot open workbook: {type(error).__name__}: {error}") from error
    try:
        names = workbook.sheetnames
        found = [s for s in sheets if s.sheet is None or s.sheet in names]
        if not found:
            wanted = ", ".join(str(s.sheet) for s in sheets)
            raise SourceError(f"none of the profile's sheets ({wanted}) is in this workbook")
        for sheet_spec in found:
            sheet = workbook[sheet_spec.sheet] if sheet_spec.sheet else workbook.worksheets[0]
            ignore_declared_size(sheet)
            yield from _sheet_rows(sheet, sheet_spec, spec)
    finally:
        workbook.close()


def _coordinate(cell: str) -> tuple[int, int]:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    letters, row = coordinate_from_string(cell)
    return row, column_index_from_string(letters)


def _sheet_rows(sheet: Any, sheet_spec: SheetSpec, spec: InputSpec) -> Iterator[SourceRow]:
    wanted = {name: _coordinate(ref) for name, ref in sheet_spec.cells.items()}
    cells: dict[str, Any] = {}
    above: list[list[Any]] = []
    header: list[str] = []
    keys: list[str] = []
    first_header = sheet_spec.header_row - sheet_spec.header_rows + 1
    for number, values in enumerate(
        sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1
    ):
        row = list(values)
        for name, (at_row, at_column) in wanted.items():
            if at_row == number and at_column <= len(row):
                cells[name] = _clean(row[at_column - 1], spec.null)
        if number < sheet_spec.header_row:
            if number >= first_header:
                above.append(row)
            continue
        if number == sheet_spec.header_row:
            header = _labels(row, above)
            keys = [label_key(label) for label in header]
            continue
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        if number - sheet_spec.header_row > MAX_ROWS:
            raise SourceError(f"sheet {sheet.title} has more than {MAX_ROWS} rows")
        pairs = [(h, k, v) for h, k, v in zip(header, keys, row, strict=False) if k]
        yield SourceRow(
            f"{sheet.title}!R{number}",
            {k: _clean(v, spec.null) for _, k, v in pairs},
            _raw({h: v for h, _, v in pairs}),
            sheet_spec.table,
            dict(cells),
        )


def _labels(row: list[Any], above: list[list[Any]]) -> list[str]:
    """Header labels; a blank one takes the label above it (a label merged down over the
    group rows, as the UNDP templates have)."""
    labels = []
    for index, value in enumerate(row):
        label = value
        for upper in reversed(above):
            if label not in (None, ""):
                break
            label = upper[index] if index < len(upper) else None
        labels.append(str(label).replace("\xa0", " ").strip() if label is not None else "")
    return labels


def _at(document: Any, path: str) -> Any:
    """`$`, `$.data`, `$.a.b`: a JSON value by its key path (None when absent)."""
    if path in ("$", ""):
        return document
    value = document
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def read_json(content: bytes, spec: InputSpec) -> Iterator[SourceRow]:
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise SourceError(f"not valid JSON: {error}") from error
    if spec.columnar is not None:
        yield from _columnar_rows(document, spec)
        return
    for path in spec.rows:
        found = _at(document, path)
        if found is None:
            continue
        rows = found if isinstance(found, list) else [found]
        if len(rows) > MAX_ROWS:
            raise SourceError(f"{path} holds more than {MAX_ROWS} rows")
        for index, row in enumerate(rows):
            where = f"{path}[{index}]" if isinstance(found, list) else path
            yield json_source_row(row, where, spec.null)
        return
    raise SourceError(f"no rows at {' or '.join(spec.rows)}")


def json_source_row(row: Any, location: str, null: frozenset[str]) -> SourceRow:
    if not isinstance(row, dict):
        raw = orjson.dumps(row, default=str).decode()
        return SourceRow(location, {}, raw, problems=["the row is not a JSON object"])
    return SourceRow(location, {k: _clean(v, null) for k, v in row.items()}, _raw(row))


def _columnar_rows(document: Any, spec: InputSpec) -> Iterator[SourceRow]:
    """Parallel arrays (`c`: one array per column) whose integer codes index lookup tables
    (`d`); the `none` code means no value."""
    assert spec.columnar is not None
    arrays_path = str(spec.columnar.get("arrays", "$.c"))
    lookups_path = str(spec.columnar.get("lookups", "$.d"))
    codes: Mapping[str, str] = spec.columnar.get("codes", {})
    none = spec.columnar.get("none", -1)
    arrays = _at(document, arrays_path)
    lookups = _at(document, lookups_path) if codes else {}
    if not isinstance(arrays, dict) or not all(isinstance(v, list) for v in arrays.values()):
        raise SourceError(f"{arrays_path} is not an object of column arrays")
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise SourceError(f"the column arrays of {arrays_path} differ in length: {lengths}")
    for column, table in codes.items():
        if column not in arrays:
            raise SourceError(f"{arrays_path} has no column {column!r} (input.columnar.codes)")
        if not isinstance(lookups, dict) or not isinstance(lookups.get(table), list):
            raise SourceError(f"{lookups_path} has no lookup table {table!r}")
    count = next(iter(lengths.values()), 0)
    if count > MAX_ROWS:
        raise SourceError(f"{arrays_path} holds more than {MAX_ROWS} rows")
    for index in range(count):
        where = f"{arrays_path}.*[{index}]"
        raw = {name: column[index] for name, column in arrays.items()}
        decoded: dict[str, Any] = {}
        bad: list[str] = []
        for name, value in raw.items():
            lookup = codes.get(name)
            if lookup is None:
                decoded[name] = _clean(value, spec.null)
            elif value == none:
                decoded[name] = None
            elif _is_code(value, len(lookups[lookup])):
                decoded[name] = _clean(lookups[lookup][value], spec.null)
            else:
                bad.append(f"{arrays_path}.{name}[{index}] = {value!r} is not a code of {lookup}")
        yield SourceRow(where, decoded, _raw(raw), problems=bad)


def _is_code(value: Any, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size
