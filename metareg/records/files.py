"""Canonical records from files: a JSON Lines or CSV line as an index operation.

A line is parsed (JSON, or a CSV row whose columns are the canonical field names, its
cells typed by the schemas), validated, and becomes an `Incoming` record, a
`Withdrawal`, or a `Rejected` line with every reason. Nothing here writes: the sync
side (`metareg.sync.ingest`) writes the operations of a file in batches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from metareg.records.canonical import (
    INTEGER_FIELDS,
    LIST_FIELDS,
    NUMBER_FIELDS,
    dumps,
    normalize,
    record_uid,
)
from metareg.records.cells import cell_integer, cell_list, cell_number
from metareg.records.operations import Incoming, Operation, Rejected, Withdrawal
from metareg.records.schemas import WITHDRAWAL, load_schema
from metareg.records.storable import unstorable
from metareg.records.validate import Problem, RecordValidator

MAX_LINE_BYTES = 1 << 20  # a canonical record is a few hundred bytes; 1 MiB is hostile
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)

Progress = Callable[[int], None]  # called with the number of bytes consumed since last call
LineReader = Callable[[BinaryIO, Progress | None], Iterator[tuple[int, str, Any]]]


class UnknownFileType(ValueError):
    """The file's type says neither JSON Lines nor CSV."""


def to_operation(
    record: Any, raw: str, location: str, validator: RecordValidator
) -> Operation | Rejected:
    """A parsed record as an index operation, or its rejection with every reason."""
    problems = validator.problems(record)
    if problems:
        return Rejected(location, raw, problems)
    try:
        if record["record_type"] == WITHDRAWAL:
            target = normalize(record["of"])
            return Withdrawal(target["record_type"], record_uid(target), raw, location)
        incoming = Incoming.from_record(record, raw, location)
    except (orjson.JSONEncodeError, OverflowError, TypeError, ValueError):
        # The normal form cannot even be serialized (an integer past 64 bits): name the
        # values that cannot be stored; this record is refused, not its page.
        unfit = unstorable(record["record_type"], normalize(record))
        return Rejected(location, raw, unfit or [Problem("$", "cannot be stored")])
    unfit = unstorable(incoming.record_type, incoming.normal)
    return Rejected(location, raw, unfit) if unfit else incoming


def json_lines(stream: BinaryIO, progress: Progress | None) -> Iterator[tuple[int, str, Any]]:
    """(line number, raw text, parsed value or a Problem) for each non-blank line."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if progress:
            progress(len(line))
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            skipped = 0
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                skipped += len(rest)
                if progress:
                    progress(len(rest))
            if rest and progress:
                progress(len(rest))
            raw = line[:4096].decode("utf-8", "backslashreplace")
            problem = Problem(
                "$", f"line longer than {MAX_LINE_BYTES} bytes; only its start is kept"
            )
            yield number, raw, problem
            continue
        if line.isspace():  # blank (the same bytes as strip() removes; no copy made)
            continue
        try:
            raw = line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as error:
            raw = line.decode("utf-8", "backslashreplace").rstrip("\r\n")
            yield (
                number,
                raw,
                Problem("$", f"not valid UTF-8 ({error.reason} at byte {error.start})"),
            )
            continue
        try:
            yield number, raw, orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            yield number, raw, Problem("$", f"not valid JSON: {error}")


def csv_rows(stream: BinaryIO, progress: Progress | None) -> Iterator[tuple[int, str, Any]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.DictReader(text)
    position = 0
    try:
        for row in reader:
            if progress:
                now = stream.tell()
                progress(now - position)
                position = now
            extra = row.pop(None, None)
            raw = dumps({k: v for k, v in row.items() if v not in (None, "")})
            if extra:
                yield reader.line_num, raw, Problem("$", f"more cells than columns: {extra!r}")
                continue
            yield reader.line_num, raw, from_csv_row(row)
    except UnicodeDecodeError as error:
        yield reader.line_num + 1, "", Problem("$", f"not valid UTF-8: {error.reason}; rest unread")
    except csv.Error as error:
        yield reader.line_num, "", Problem("$", f"malformed CSV: {error}; rest unread")


def line_reader(path: Path) -> LineReader:
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return json_lines
    if suffix in CSV_SUFFIXES:
        return csv_rows
    raise UnknownFileType(
        f"{path}: unknown file type {suffix or '(none)'}; use .jsonl / .ndjson / .json (JSON "
        "Lines) or .csv"
    )


def file_operations(
    path: Path, stream: BinaryIO, validator: RecordValidator, progress: Progress | None = None
) -> Iterator[Operation | Rejected]:
    """Each non-blank line of `stream` (read as `path`'s type says) as an index
    operation, or as its rejection with every reason; located "line N"."""
    for number, raw, value in line_reader(path)(stream, progress):
        location = f"line {number}"
        if isinstance(value, Problem):
            yield Rejected(location, raw, [value])
        else:
            yield to_operation(value, raw, location, validator)


def _field_types() -> dict[str, str]:
    """Field name -> JSON type, read from the schemas (used to type CSV cells)."""
    types: dict[str, str] = {}
    for name in ("block", "authorization", "action", "holding"):
        for field, spec in load_schema(name).get("properties", {}).items():
            if isinstance(spec, dict) and "type" in spec:
                types[field] = spec["type"]
    for field in INTEGER_FIELDS:
        types[field] = "integer"
    for field in NUMBER_FIELDS:
        types[field] = "number"
    for field in LIST_FIELDS:
        types[field] = "array"
    return types


_FIELD_TYPES = _field_types()


def from_csv_row(row: dict[str, str | None]) -> dict[str, Any]:
    """A CSV row with the canonical column names as a record: empty cells are absent,
    lists are joined by ';', numbers are parsed. A cell that is not a number where one
    is expected is kept as text, so validation reports it with its column name."""
    record: dict[str, Any] = {}
    for key, raw in row.items():
        if key is None or raw is None:
            continue
        key = key.strip()
        value = raw.strip()
        if value == "":
            continue
        kind = _FIELD_TYPES.get(key)
        if kind == "array":
            record[key] = cell_list(value)
        elif kind == "integer":
            record[key] = cell_integer(value)
        elif kind == "number":
            record[key] = cell_number(value)
        else:
            record[key] = value
    return record
