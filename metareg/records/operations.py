"""What arrives at the index: a validated record, or a withdrawal of one; and what
does not (a rejected input, which goes to the quarantine with its reasons)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import orjson

from metareg.records.canonical import normal_json, normalize, record_uid
from metareg.records.validate import Problem


@dataclass(slots=True)
class Incoming:
    """A valid canonical record as received: normalized, identified and hashed."""

    record_type: str
    uid: str
    normal: dict[str, Any]
    content_hash: str
    raw: str  # the payload exactly as the registry sent it
    location: str = ""
    # The normal form as canonical JSON (what history stores), when already made: the
    # content hash is taken over these very bytes, so they are serialized only once.
    payload: str = field(default="", repr=False, compare=False)
    # Made by a reading process for the index writer, which would make them the same
    # (`metareg.index.writer.reader_rows`): the record's current row as the writer
    # stores it, and its record of the index's columnar copy (bytes, its row id 0).
    row: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)
    columns: bytes | None = field(default=None, repr=False, compare=False)

    def __getattr__(self, name: str) -> Any:
        # Only for a slot never set: the normal form of an operation that crossed from a
        # reading process with its row instead (`pack`), made again from its payload
        # (the canonical JSON of that very dict) the first time it is asked for.
        if name == "normal" and self.payload:
            normal: dict[str, Any] = orjson.loads(self.payload)
            self.normal = normal
            return normal
        raise AttributeError(name)

    @classmethod
    def from_record(cls, record: dict[str, Any], raw: str, location: str = "") -> Incoming:
        normal = normalize(record)
        payload = normal_json(normal)
        # Positional: every record of an ingest is made here (keywords cost a tenth more).
        return cls(
            normal["record_type"],
            record_uid(normal),
            normal,
            sha256(payload).hexdigest(),
            raw,
            location,
            payload.decode(),
        )


@dataclass(slots=True)
class Withdrawal:
    """A registry no longer reports this record (a tombstone, or absent from a snapshot)."""

    record_type: str
    uid: str
    raw: str = ""
    location: str = ""
    content_hash: str | None = field(default=None, init=False)


Operation = Incoming | Withdrawal


@dataclass(frozen=True, slots=True)
class Rejected:
    location: str  # where in the source: "line 12", "page 3 item 7"
    raw: str  # the input exactly as received
    reasons: Sequence[Problem]
    # how to map it again (a source profile's row: profile, params, table, cells, values)
    origin: Mapping[str, Any] | None = None


# An operation as a plain tuple, to cross a process boundary: pickling a batch of
# tuples and building the operations again on the other side cost about a third of
# pickling and unpickling the dataclasses (slots objects pickle through copyreg).
# A record whose row the reader made crosses with it and without its normal form (the
# writer of a block record needs only the row; unpickling the dict cost as much).
Packed = tuple[Any, ...]


def pack(operations: Sequence[Operation]) -> list[Packed]:
    return [
        (
            (o.record_type, o.uid, o.normal, o.content_hash, o.raw, o.location, o.payload)
            if o.row is None or not o.payload
            else (
                o.record_type,
                o.uid,
                o.content_hash,
                o.raw,
                o.location,
                o.payload,
                o.row,
                o.columns,
            )
        )
        if isinstance(o, Incoming)
        else (o.record_type, o.uid, o.raw, o.location)
        for o in operations
    ]


def _carried(
    record_type: str,
    uid: str,
    content_hash: str,
    raw: str,
    location: str,
    payload: str,
    row: tuple[Any, ...],
    columns: bytes | None,
) -> Incoming:
    """An Incoming that crossed with its row: `normal` left unset, made when asked."""
    op = object.__new__(Incoming)
    op.record_type, op.uid, op.content_hash = record_type, uid, content_hash
    op.raw, op.location, op.payload, op.row, op.columns = raw, location, payload, row, columns
    return op


def unpack(packed: Sequence[Packed]) -> list[Operation]:
    return [
        Incoming(*item)
        if len(item) == 7
        else _carried(*item)
        if len(item) == 8
        else Withdrawal(*item)
        for item in packed
    ]
