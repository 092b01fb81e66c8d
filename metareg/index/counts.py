"""What one write did to the index, as the ingest summary and sync health report it."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class Counts:
    accepted: int = 0  # new identities (or a withdrawn record reported again)
    corrected: int = 0  # same identity, different content
    unchanged: int = 0  # same identity, same content: nothing written
    withdrawn: int = 0  # left the current index, kept in history
    superseded: int = 0  # holding rows of an older snapshot replaced by a newer one
    stale: int = 0  # holding rows of a snapshot older than the current one: history only
    quarantined: int = 0  # failed validation: kept verbatim in the quarantine

    def add(self, other: Counts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    @property
    def changed(self) -> int:
        return self.accepted + self.corrected + self.withdrawn + self.superseded + self.stale

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
