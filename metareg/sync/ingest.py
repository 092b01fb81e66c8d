"""`metareg ingest`: canonical records from JSON Lines or CSV files into the index.

Files are streamed in bounded batches (memory does not grow with the file), each
batch written and committed in one transaction. Every line ends up somewhere:
accepted into the index, recognised as unchanged, or quarantined with its file,
line number and reasons. Ingesting the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy import Engine

from metareg.index.counts import Counts
from metareg.index.quarantine import Rejected, quarantine
from metareg.index.writer import IndexWriter
from metareg.records.canonical import dumps, from_csv_row, normalize, record_uid
from metareg.records.operations import Incoming, Operation, Withdrawal
from metareg.records.schemas import WITHDRAWAL
from metareg.records.validate import Problem, RecordValidator
from metareg.registries import ensure_registry

MAX_LINE_BYTES = 1 << 20  # a canonical record is a few hundred bytes; 1 MiB is hostile
DEFAULT_BATCH = 5_000
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)

Progress = Callable[[int], None]  # called with the number of bytes consumed since last call


class IngestUsageError(ValueError):
    """The input cannot be read at all (missing file, unknown format): nothing was ingested."""


@dataclass
class IngestReport:
    counts: Counts = field(default_factory=Counts)
    files: int = 0
    lines: int = 0
    problems: list[tuple[str, str, list[Problem]]] = field(default_factory=list)  # first few
    skipped: dict[str, int] = field(default_factory=dict)  # rows a profile skips, per reason

    KEEP_PROBLEMS = 50


def to_operation(
    record: Any, raw: str, location: str, validator: RecordValidator
) -> Operation | Rejected:
    """A parsed record as an index operation, or its rejection with every reason."""
    problems = validator.problems(record)
    if problems:
        return Rejected(location, raw, problems)
    if record["record_type"] == WITHDRAWAL:
        target = normalize(record["of"])
        return Withdrawal(target["record_type"], record_uid(target), raw, location)
    return Incoming.from_record(record, raw, location)


def _json_lines(stream: BinaryIO, progress: Progress | None) -> Iterator[tuple[int, str, Any]]:
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
        if not line.strip():
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


def _csv_rows(stream: BinaryIO, progress: Progress | None) -> Iterator[tuple[int, str, Any]]:
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


def _reader(path: Path) -> Callable[[BinaryIO, Progress | None], Iterator[tuple[int, str, Any]]]:
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return _json_lines
    if suffix in CSV_SUFFIXES:
        return _csv_rows
    raise IngestUsageError(
        f"{path}: unknown file type {suffix or '(none)'}; use .jsonl / .ndjson / .json (JSON "
        "Lines) or .csv"
    )


def write_batch(
    engine: Engine,
    registry_id: str,
    source: str,
    ops: list[Operation],
    rejected: list[Rejected],
    report: IngestReport,
) -> None:
    """Write one batch and its rejects in one transaction."""
    with engine.begin() as connection:
        writer = IndexWriter(connection, registry_id, source)
        report.counts.add(writer.apply(ops))
        report.counts.quarantined += quarantine(
            connection, registry_id, source, rejected, writer.now
        )
    for item in rejected:
        if len(report.problems) < IngestReport.KEEP_PROBLEMS:
            report.problems.append((source, item.location, list(item.reasons)))


def check_files(paths: list[Path]) -> None:
    for path in paths:
        if not path.is_file():
            raise IngestUsageError(f"{path}: no such file")


def ingest_files(
    engine: Engine,
    paths: list[Path],
    registry_id: str,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> IngestReport:
    check_files(paths)
    for path in paths:
        _reader(path)
    validator = RecordValidator()
    report = IngestReport()
    with engine.begin() as connection:
        ensure_registry(connection, registry_id)
    for path in paths:
        report.files += 1
        source = str(path)
        ops: list[Operation] = []
        rejected: list[Rejected] = []

        with path.open("rb") as stream:
            for number, raw, value in _reader(path)(stream, progress):
                report.lines += 1
                location = f"line {number}"
                if isinstance(value, Problem):
                    rejected.append(Rejected(location, raw, [value]))
                else:
                    item = to_operation(value, raw, location, validator)
                    if isinstance(item, Rejected):
                        rejected.append(item)
                    else:
                        ops.append(item)
                if len(ops) + len(rejected) >= batch_size:
                    write_batch(engine, registry_id, source, ops, rejected, report)
                    ops, rejected = [], []
        write_batch(engine, registry_id, source, ops, rejected, report)
    return report
