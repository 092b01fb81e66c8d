"""File ingest (`metareg ingest`): a sync from JSON Lines or CSV files into the index.

Each line becomes an operation or a rejection in `metareg.records.files`; here the
file is streamed in bounded batches (memory does not grow with the file), each batch
written and committed in one transaction. Every line ends up somewhere: accepted into
the index, recognised as unchanged, or quarantined with its file, line number and
reasons. Ingesting the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from metareg.index.counts import Counts
from metareg.index.quarantine import quarantine
from metareg.index.writer import IndexWriter
from metareg.records.files import Progress, UnknownFileType, file_operations, line_reader
from metareg.records.operations import Operation, Rejected
from metareg.records.validate import Problem, RecordValidator
from metareg.registries import ensure_registry

DEFAULT_BATCH = 5_000


class IngestUsageError(ValueError):
    """The input cannot be read at all (missing file, unknown format): nothing was ingested."""


@dataclass
class IngestReport:
    counts: Counts = field(default_factory=Counts)
    files: int = 0
    lines: int = 0
    problems: list[tuple[str, str, list[Problem]]] = field(default_factory=list)  # first few
    skipped: dict[str, int] = field(default_factory=dict)  # rows a profile skips, per reason
    # per file: (file, rows read and not skipped, rows quarantined)
    files_read: list[tuple[str, int, int]] = field(default_factory=list)

    KEEP_PROBLEMS = 50

    def start_file(self) -> tuple[int, int, int]:
        return self.lines, sum(self.skipped.values()), self.counts.quarantined

    def end_file(self, source: str, start: tuple[int, int, int]) -> None:
        lines, skipped, quarantined = start
        rows = (self.lines - lines) - (sum(self.skipped.values()) - skipped)
        self.files_read.append((source, rows, self.counts.quarantined - quarantined))

    def over_share(self, limit: float) -> list[tuple[str, float]]:
        """The files of which more than `limit` (0..1) of the rows read were quarantined,
        with that share (a row giving several records counts once)."""
        out = []
        for source, rows, quarantined in self.files_read:
            share = min(1.0, quarantined / rows) if rows else (1.0 if quarantined else 0.0)
            if share > limit:
                out.append((source, share))
        return out


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
        try:
            line_reader(path)
        except UnknownFileType as error:
            raise IngestUsageError(str(error)) from None
    validator = RecordValidator()
    report = IngestReport()
    with engine.begin() as connection:
        ensure_registry(connection, registry_id)
    for path in paths:
        report.files += 1
        source = str(path)
        start = report.start_file()
        ops: list[Operation] = []
        rejected: list[Rejected] = []

        with path.open("rb") as stream:
            for item in file_operations(path, stream, validator, progress):
                report.lines += 1
                if isinstance(item, Rejected):
                    rejected.append(item)
                else:
                    ops.append(item)
                if len(ops) + len(rejected) >= batch_size:
                    write_batch(engine, registry_id, source, ops, rejected, report)
                    ops, rejected = [], []
        write_batch(engine, registry_id, source, ops, rejected, report)
        report.end_file(source, start)
    return report
