"""A file of canonical records as batches of index operations (`metareg ingest`'s
reading side; the writing is `metareg.sync.ingest`).

The writer judges each identity by the net effect of the operations it is given
together, so every operation on one identity must reach it in the same batch, however
far apart the file has them (a record on line 1, its tombstone on line 5,101). A first
pass over the file builds an identity index (each identity's last line, as a hash:
not the file in memory); the second pass holds an operation back until its identity's
last line and hands them over together. An identity the file names once (the usual
case) is handed over at once. The first pass over a large JSON Lines file can be made
in two halves at once (`middle_line`, `named_in`, `named_from`, `repeated_lines`): the
writer has nothing to write until it ends.

Nothing here writes, and nothing here imports above the records layer: a large file is
read in a child process (`read_packed`), which imports only what reading needs (and
what the `shape` its caller hands it needs: the writer's rows made ahead of it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from metareg.records.canonical import normalize, record_uid
from metareg.records.files import JSON_SUFFIXES, Progress, line_reader, to_operation
from metareg.records.operations import Operation, Packed, Rejected, pack
from metareg.records.schemas import WITHDRAWAL
from metareg.records.validate import Problem, RecordValidator

Batch = tuple[list[Operation], list[Rejected], int]


def file_batches(
    path: Path,
    validator: RecordValidator,
    last_lines: dict[int, int],
    batch_size: int,
    progress: Progress | None,
) -> Iterator[Batch]:
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


# -- the first pass in two halves -------------------------------------------------------
# A hash of a string differs from one process to another, so the halves name their
# identities in full; only the identities named more than once, usually none, reach the
# reading process, which hashes them as `identity_index` does.

Identity = tuple[str, str]


@dataclass
class Named:
    """The identities a part of a file names: each one's last line (counted from the
    part's first line, 1), those it names more than once, and the part's lines."""

    last: dict[Identity, int] = field(default_factory=dict)
    repeated: set[Identity] = field(default_factory=set)
    lines: int = 0


def middle_line(path: Path) -> int | None:
    """Where a line of a JSON Lines file starts near its middle (the byte after a line
    feed), or None: not JSON Lines, or no line starts in its second half."""
    if path.suffix.lower() not in JSON_SUFFIXES:
        return None
    size = path.stat().st_size
    with path.open("rb") as stream:
        position = stream.seek(size // 2)
        while chunk := stream.read(1 << 16):
            found = chunk.find(b"\n")
            if found >= 0:
                start = position + found + 1
                return start if start < size else None
            position += len(chunk)
    return None


class _Until:
    """A binary stream's bytes up to `stop`, read by lines as `json_lines` reads them;
    `lines` counts the lines handed out (a line feed ends each)."""

    def __init__(self, stream: BinaryIO, stop: int) -> None:
        self.stream, self.left, self.lines = stream, stop - stream.tell(), 0

    def readline(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        line = self.stream.readline(self.left if size < 0 else min(size, self.left))
        self.left -= len(line)
        self.lines += line.endswith(b"\n")
        return line


def _named(values: Iterator[tuple[int, str, Any]], named: Named) -> Named:
    for number, _raw, value in values:
        found = identity_of(value) if isinstance(value, dict) else None
        if found is None:
            continue
        if found in named.last:
            named.repeated.add(found)
        named.last[found] = number
    return named


def named_in(path: Path, stop: int) -> Named:
    """The identities the lines before byte `stop` (a line's start) name."""
    named = Named()
    with path.open("rb") as stream:
        part = _Until(stream, stop)
        _named(line_reader(path)(part, None), named)  # type: ignore[arg-type]
    named.lines = part.lines
    return named


def named_from(path_name: str, start: int) -> Iterator[Named]:
    """In the reading process: the identities the lines from byte `start` (a line's
    start) to the end name, as one item."""
    path = Path(path_name)
    with path.open("rb") as stream:
        stream.seek(start)
        yield _named(line_reader(path)(stream, None), Named())


def repeated_lines(first: Named, second: Named) -> dict[Identity, int]:
    """The identities the two halves of a file name more than once in all, each with
    its last line in the file (`second` starting at `first`'s end)."""
    repeated = first.repeated | second.repeated | (first.last.keys() & second.last.keys())
    return {
        key: first.lines + second.last[key] if key in second.last else first.last[key]
        for key in repeated
    }


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


def read_packed(
    path_name: str,
    batch_size: int,
    repeated: dict[Identity, int] | None = None,
    shape: Callable[[list[Operation]], None] | None = None,
) -> Iterator[tuple[list[Packed], list[Rejected], int, int]]:
    """In the reading process: the file's batches with their operations packed (see
    `records.operations.pack`), each given to `shape` first (the writer's work done
    ahead of it), and the bytes read for each (the parent reports them).
    The identity index is made here (it holds hashes of strings, which differ from one
    process to another): by the first pass, or from `repeated` (`repeated_lines`) when
    the first pass was made already."""
    path = Path(path_name)
    consumed = [0]

    def count(size: int) -> None:
        consumed[0] += size

    last_lines = (
        identity_index(path)
        if repeated is None
        else {hash(key): line for key, line in repeated.items()}
    )
    batches = file_batches(path, RecordValidator(), last_lines, batch_size, count)
    for ops, rejected, lines in batches:
        if shape is not None:
            shape(ops)
        yield pack(ops), rejected, lines, consumed[0]
        consumed[0] = 0
