"""What arrives at the index: a validated record, or a withdrawal of one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from metareg.records import content_hash, normalize, record_uid


@dataclass(slots=True)
class Incoming:
    """A valid canonical record as received: normalized, identified and hashed."""

    record_type: str
    uid: str
    normal: dict[str, Any]
    content_hash: str
    raw: str  # the payload exactly as the registry sent it
    location: str = ""

    @classmethod
    def from_record(cls, record: dict[str, Any], raw: str, location: str = "") -> Incoming:
        normal = normalize(record)
        return cls(
            record_type=normal["record_type"],
            uid=record_uid(normal),
            normal=normal,
            content_hash=content_hash(normal),
            raw=raw,
            location=location,
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
