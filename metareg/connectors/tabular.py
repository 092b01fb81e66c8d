"""Tabular connector: CSV or XLSX downloads with a declarative column mapping.

For registries that only publish exports. The config maps canonical fields to the
export's column headers (or fixes them), and names the column(s) holding underlying-unit
serials, which are read with `metareg.records.serials` so a malformed serial is refused:

    [registries.connector]
    type = "tabular"
    url = "https://registry.example.org/exports/issuances.csv"   # or path = "..."
    record_type = "action"
    [registries.connector.columns]
    action_id = "Transaction ID"
    action_date = { column = "Issuance Date", as = "date" }
    vintage = { column = "Vintage Start", as = "year" }
    first_id = { column = "First ITMO", as = "integer" }
    [registries.connector.constants]
    action_type = "Issuance"
    [registries.connector.underlying]
    registry = "VCS"
    serial = "Serial Number"          # one column with the block, or first/last columns

Conversions (`as`): text (default), integer, number, date, year, list (';'-separated).
Every sync of a changed file is a complete listing (see `files.py`).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

import openpyxl

from metareg.connectors.aef.reader import (
    MAX_COLUMNS,
    MAX_ROWS,
    check_workbook_size,
    ignore_declared_size,
)
from metareg.connectors.base import Item
from metareg.connectors.errors import ConfigurationError, MalformedResponse
from metareg.connectors.files import FileSnapshotConnector
from metareg.records.canonical import dumps
from metareg.records.serials import SerialError, parse_serial, parse_serial_range

CONVERSIONS = ("text", "integer", "number", "date", "year", "list")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class RowProblem(ValueError):
    pass


def _convert(value: Any, how: str, column: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        value = value.date()
    text = value.isoformat() if isinstance(value, date) else str(value).strip()
    if how == "text":
        return text
    if how == "list":
        return [part.strip() for part in text.split(";") if part.strip()]
    if how in ("date", "year"):
        match = _DATE.search(text)
        if match is None:
            if how == "year" and text.isdigit() and len(text) == 4:
                return int(text)
            raise RowProblem(f"{column}: expected a date (YYYY-MM-DD), got {text!r}")
        return int(match.group(1)) if how == "year" else match.group(0)
    number = text.replace(",", "")
    try:
        as_float = float(number)
    except ValueError as error:
        raise RowProblem(f"{column}: expected a number, got {text!r}") from error
    if how == "integer":
        if not as_float.is_integer():
            raise RowProblem(f"{column}: expected a whole number, got {text!r}")
        return int(as_float)
    return int(as_float) if as_float.is_integer() else as_float


class TabularConnector(FileSnapshotConnector):
    kind = "tabular"

    def _mapping(self) -> dict[str, tuple[str, str]]:
        raw = self.config.option("columns")
        if not isinstance(raw, dict) or not raw:
            raise ConfigurationError(f"{self.config.registry_id}: tabular needs a columns table")
        mapping: dict[str, tuple[str, str]] = {}
        for field, spec in raw.items():
            if isinstance(spec, str):
                mapping[field] = (spec, "text")
            elif isinstance(spec, dict) and "column" in spec:
                how = str(spec.get("as", "text"))
                if how not in CONVERSIONS:
                    raise ConfigurationError(f"columns.{field}: 'as' must be one of {CONVERSIONS}")
                mapping[field] = (str(spec["column"]), how)
            else:
                raise ConfigurationError(f"columns.{field}: a header name or {{column, as}}")
        return mapping

    def items(self, content: bytes, name: str) -> list[Item]:
        mapping = self._mapping()
        constants = dict(self.config.option("constants", {}))
        record_type = str(self.config.option("record_type", constants.get("record_type", "")))
        if record_type not in ("action", "holding", "authorization"):
            raise ConfigurationError(
                "tabular: record_type must be action, holding or authorization"
            )
        underlying = dict(self.config.option("underlying", {}))
        out: list[Item] = []
        for location, row in self._rows(content, name):
            raw = dumps(row)
            try:
                record: dict[str, Any] = {"record_type": record_type, **constants}
                for field, (column, how) in mapping.items():
                    value = _convert(row.get(column), how, column)
                    if value is not None:
                        record[field] = value
                if underlying:
                    record.update(_underlying(underlying, row))
            except (RowProblem, SerialError) as error:
                out.append(Item(row, raw, location, [str(error)]))
                continue
            out.append(Item(record, raw, location))
        return out

    def _rows(self, content: bytes, name: str) -> list[tuple[str, dict[str, Any]]]:
        kind = str(self.config.option("format", "")) or (
            "xlsx" if name.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04" else "csv"
        )
        if kind == "xlsx":
            return self._xlsx_rows(content)
        try:
            text = content.decode(str(self.config.option("encoding", "utf-8-sig")))
        except (UnicodeDecodeError, LookupError) as error:
            raise MalformedResponse(f"{name}: cannot decode: {error}") from error
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        rows: list[tuple[str, dict[str, Any]]] = []
        try:
            for row in reader:
                if len(rows) >= MAX_ROWS:
                    raise MalformedResponse(f"{name}: more than {MAX_ROWS} rows")
                rows.append((f"line {reader.line_num}", {k: v for k, v in row.items() if k}))
        except csv.Error as error:
            raise MalformedResponse(f"{name}: malformed CSV: {error}") from error
        return rows

    def _xlsx_rows(self, content: bytes) -> list[tuple[str, dict[str, Any]]]:
        try:
            check_workbook_size(content)
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:
            raise MalformedResponse(f"cannot open workbook: {error}") from error
        try:
            wanted = self.config.option("sheet")
            sheet = workbook[wanted] if wanted else workbook.worksheets[0]
            header_row = int(self.config.option("header_row", 1))
            ignore_declared_size(sheet)
            iterator = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
            header: list[Any] = []
            rows: list[tuple[str, dict[str, Any]]] = []
            for number, values in enumerate(iterator, start=1):
                if number < header_row:
                    continue
                if number == header_row:
                    header = [str(v).strip() if v is not None else "" for v in values]
                    continue
                if all(v in (None, "") for v in values):
                    continue
                if len(rows) >= MAX_ROWS:
                    raise MalformedResponse(f"more than {MAX_ROWS} rows")
                rows.append((f"{sheet.title}!R{number}", dict(zip(header, values, strict=False))))
            return rows
        finally:
            workbook.close()


def _underlying(spec: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    registry = spec.get("registry")
    out: dict[str, Any] = {}
    if registry:
        out["underlying_registry_id"] = str(registry)
    if "serial" in spec:
        serial = str(row.get(spec["serial"]) or "").strip()
        if serial:
            parse_serial(serial, registry)
            out["first_unit_id"] = out["last_unit_id"] = serial
    elif "first" in spec and "last" in spec:
        first = str(row.get(spec["first"]) or "").strip()
        last = str(row.get(spec["last"]) or "").strip()
        if first and last:
            parse_serial_range(first, last, registry)
            out["first_unit_id"], out["last_unit_id"] = first, last
    return out
