"""File ingest (`metareg ingest`): a sync from JSON Lines or CSV files into the index.

Each line becomes an operation or a rejection in `metareg.records.files`; here the
file is streamed in bounded batches (memory does not grow with the file), each batch
written and committed in one transaction. Every line ends up somewhere: accepted into
the index, recognised as unchanged, or quarantined with its file, line number and
reasons. Ingesting the same file again changes nothing.

The writer judges each identity by the net effect of the operations it is given
together, so every operation on one identity must reach it in the same batch, however
far apart the file has them (a record on line 1, its tombstone on line 5,101). A first
pass over the file builds an identity index (each identity's last line, as a hash:
not the file in memory); the second pass holds an operation back until its identity's
last line and hands them over together. An identity the file names once (the usual
case) is written at once, as before; a withdrawn record is never current between
batches.

The next batch is read and validated on a thread while the one before is written (as
a sync prefetches its pages): writing stays in the calling thread, batch after batch
in order, so a crash leaves exactly the batches committed before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from metareg.index.counts import Counts
from metareg.index.quarantine import quarantine
from metareg.index.statistics import note_written
from metareg.index.writer import IndexWriter
from metareg.records.canonical import normalize, record_uid
from metareg.records.files import (
    Progress,
    UnknownFileType,
    line_reader,
    to_operation,
)
from metareg.records.operations import Operation, Rejected
from metareg.records.schemas import WITHDRAWAL
from metareg.records.validate import Problem, RecordValidator
from metareg.registries import ensure_registry
from metareg.sync.prefetch import PagePrefetcher

DEFAULT_BATCH = 5_000
# Batches prepared ahead of the one being written (memory: this many batches more).
PREFETCH_BATCHES = 2


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
        last_lines = identity_index(path)
        batches = file_batches(path, validator, last_lines, batch_size, progress)
        # Each batch is read and validated on a thread while the one before is written.
        with PagePrefetcher(batches, depth=PREFETCH_BATCHES) as prepared:
            for ops, rejected, lines in prepared:
                report.lines += lines
                write_batch(engine, registry_id, source, ops, rejected, report)
        report.end_file(source, start)
    return report


def file_batches(
    path: Path,
    validator: RecordValidator,
    last_lines: dict[int, int],
    batch_size: int,
    progress: Progress | None,
) -> Iterator[tuple[list[Operation], list[Rejected], int]]:
    """The file's batches to write, each with the number of input lines it holds: a
    batch of about `batch_size` operations and rejects, then the rest (the last batch,
    perhaps empty)."""
    ops: list[Operation] = []
    rejected: list[Rejected] = []
    lines = 0
    with path.open("rb") as stream:
        for item in net_operations(path, stream, validator, last_lines, progress):
            lines += 1
            if isinstance(item, Rejected):
                rejected.append(item)
            else:
                ops.extend(item)
            if len(ops) + len(rejected) >= batch_size:
                yield ops, rejected, lines
                ops, rejected, lines = [], [], 0
    yield ops, rejected, lines


# The record types whose identity is a field taken as it is (no default, no number
# that normalization could turn from 2.0 into 2): their uid needs no normal form.
_UID_AS_GIVEN = frozenset({"action", "unit_status"})


def identity_of(value: Any) -> tuple[str, str] | None:
    """The identity a parsed record names (a record's, or a withdrawal's target), or
    None when it names none (it will be quarantined)."""
    try:
        if value.get("record_type") == WITHDRAWAL:
            value = value["of"]
        if value.get("record_type") in _UID_AS_GIVEN:
            return (value["record_type"], record_uid(value))
        target = normalize(value)
        return (str(target["record_type"]), record_uid(target))
    except Exception:  # unreadable: the second pass quarantines it with its reasons
        return None


def _identity(value: Any) -> int | None:
    found = identity_of(value)
    return None if found is None else hash(found)


class NetOrder:
    """Hands over an identity's operations together, at the last place the input names
    it, given where that is (`last`: hash of the identity -> its last position, for the
    identities named more than once)."""

    def __init__(self, last: dict[int, int]) -> None:
        self.last = last
        self.held: dict[int, list[Any]] = {}
        self.position = 0  # for a caller that counts as it goes

    def take(self, key: int, position: int, item: Any) -> list[Any]:
        """What to hand over now: nothing (held), or the identity's items so far."""
        last = self.last.get(key)
        if last is None:
            return [item]
        if position < last:
            self.held.setdefault(key, []).append(item)
            return []
        return [*self.held.pop(key, []), item]

    def rest(self) -> list[Any]:
        """Anything still held at the end (an input read differently the second time)."""
        out = [item for items in self.held.values() for item in items]
        self.held.clear()
        return out


def identity_index(path: Path) -> dict[int, int]:
    """For each identity the file names more than once, the last line naming it (as
    the hash of the identity: two identities sharing a hash are merely handed over
    together, which changes nothing of their net effect)."""
    last: dict[int, int] = {}
    repeated: set[int] = set()
    with path.open("rb") as stream:
        for number, _raw, value in line_reader(path)(stream, None):
            key = _identity(value) if isinstance(value, dict) else None
            if key is None:
                continue
            if key in last:
                repeated.add(key)
            last[key] = number
    return {key: last[key] for key in repeated}


def net_operations(
    path: Path,
    stream: Any,
    validator: RecordValidator,
    last_lines: dict[int, int],
    progress: Progress | None,
) -> Iterator[list[Operation] | Rejected]:
    """The file's operations, those of an identity named on several lines handed over
    together at its last line (so one batch judges the identity's net effect)."""
    order = NetOrder(last_lines)
    for number, raw, value in line_reader(path)(stream, progress):
        location = f"line {number}"
        outcome: Operation | Rejected = (
            Rejected(location, raw, [value])
            if isinstance(value, Problem)
            else to_operation(value, raw, location, validator)
        )
        if isinstance(outcome, Rejected):
            yield outcome
            continue
        yield order.take(hash((outcome.record_type, outcome.uid)), number, outcome)
    rest = order.rest()  # a line the first pass read differently: never lost
    if rest:
        yield rest
