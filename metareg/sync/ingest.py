"""File ingest (`metareg ingest`): a sync from JSON Lines or CSV files into the index.

Each line becomes an operation or a rejection in `metareg.records.files`; here the
file is streamed in bounded batches (memory does not grow with the file), each batch
written and committed in one transaction. Every line ends up somewhere: accepted into
the index, recognised as unchanged, or quarantined with its file, line number and
reasons. Ingesting the same file again changes nothing.

The writer judges each identity by the net effect of the operations it is given
together, so the batches (`metareg.records.batches`) hand every operation on one
identity over together, however far apart the file has them: a withdrawn record is
never current between batches.

The next batch is read and validated while the one before is written: on a thread
for a small file (as a sync prefetches its pages), in a child process for a file of
`PROCESS_BYTES` or more, where the reading then takes the other core
(`metareg.sync.prefetch`). Writing stays in the calling thread, batch after batch in
order, so a crash leaves exactly the batches committed before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from metareg.db.collector import collector_paused
from metareg.index.counts import Counts
from metareg.index.quarantine import quarantine
from metareg.index.statistics import note_written
from metareg.index.writer import IndexWriter, shaped_for
from metareg.records.batches import (
    Batch,
    Identity,
    file_batches,
    identity_index,
    middle_line,
    named_from,
    named_in,
    read_packed,
    repeated_lines,
)
from metareg.records.files import Progress, UnknownFileType, line_reader
from metareg.records.operations import Operation, Rejected, unpack
from metareg.records.validate import Problem, RecordValidator
from metareg.registries import ensure_registry
from metareg.sync.prefetch import PagePrefetcher, ProcessPrefetcher

DEFAULT_BATCH = 5_000
# Batches prepared ahead of the one being written (memory: this many batches more).
PREFETCH_BATCHES = 2
# From this size a file is read in a child process. 8 MiB is about 20,000 canonical
# records, half a second of reading: about what starting the child costs (once per
# process; it is then kept for the next file).
PROCESS_BYTES = 8 << 20
# Up to this size a JSON Lines file's first pass is made in two halves at once
# (`first_pass`). Each half names its identities in full, about 100 bytes each in the
# writer's process (a 47 MB file of 268,000 lines: 28 MB more at the ingest's peak);
# past it the child makes the whole pass, keeping a hash of each, as before.
SPLIT_BYTES = 256 << 20


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
        counts = writer.apply(ops)
        report.counts.add(counts)
        report.counts.quarantined += quarantine(
            connection, registry_id, source, rejected, writer.now
        )
    note_written(engine, registry_id, writer.changed)
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
        batches = prepared_batches(
            path, validator, batch_size, progress, shaped_for(engine, registry_id)
        )
        for ops, rejected, lines in batches:
            report.lines += lines
            write_batch(engine, registry_id, source, ops, rejected, report)
        report.end_file(source, start)
    return report


def first_pass(path: Path) -> dict[Identity, int] | None:
    """The identities a large JSON Lines file names more than once, with their last
    lines (`records.batches.repeated_lines`): the first half of the file read here
    while the reading process reads the second (the writer has nothing to do until the
    first pass ends: about a second per 250,000 lines in one process). None where the
    file does not split, or is larger than `SPLIT_BYTES` (the reading process then
    makes the whole first pass)."""
    middle = middle_line(path) if path.stat().st_size <= SPLIT_BYTES else None
    if middle is None:
        return None
    with ProcessPrefetcher(named_from, str(path), middle) as theirs:
        first = named_in(path, middle)
        (second,) = list(theirs)
    return repeated_lines(first, second)


def prepared_batches(
    path: Path,
    validator: RecordValidator,
    batch_size: int,
    progress: Progress | None,
    shape: Callable[[list[Operation]], None] | None = None,
) -> Iterator[Batch]:
    """The file's batches (`file_batches`), each read and validated while the caller
    writes the one before: in a child process for a file of `PROCESS_BYTES` or more
    (which also gives each batch to `shape`: `index.writer.shaped_for`), on a thread
    otherwise. Either way the caller sees the same batches, in order, and an error
    where reading met it."""
    if path.stat().st_size >= PROCESS_BYTES:
        job = (str(path), batch_size, first_pass(path), shape)
        with ProcessPrefetcher(read_packed, *job) as read:
            for packed, rejected, lines, consumed in read:
                if progress is not None and consumed:
                    progress(consumed)
                with collector_paused():  # an operation and its record per line
                    ops = unpack(packed)
                yield ops, rejected, lines
        return
    last_lines = identity_index(path)
    batches = file_batches(path, validator, last_lines, batch_size, progress)
    with PagePrefetcher(batches, depth=PREFETCH_BATCHES) as prepared:
        yield from prepared
