"""The FeedSource interface: what a registry must be able to answer to serve the exchange API.

The HTTP layer (`server.py`) only translates; a FeedSource holds the registry's state.
Contract, matching docs/exchange-api.openapi.yaml:

- `changes(cursor, limit)`: the change items after `cursor` (None = from the beginning),
  in commit order, at most `limit`. An item is `{"op": "upsert", "record": {...}}` or
  `{"op": "withdraw", "of": {record_type + identity fields}}`. `next_cursor` continues
  after the last item (equal to the given cursor when there is nothing new). A cursor it
  no longer accepts raises `CursorGone` (the server answers 410); `reset=True` asks the
  client for a full resync.
- `holdings(as_of, cursor, limit)`: one page of the snapshot at `as_of` (None = latest).
- `totals()`: per (record_type, cooperative_approach_id, vintage[, action_type]) the count
  of current blocks and of units, for reconciliation.
- `blocks(cooperative_approach_id, vintage, cursor, limit)`: the current blocks (identity
  plus block fields) of one approach and vintage.

Cursors are opaque strings to clients; only the source interprets them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class CursorGone(Exception):
    """The cursor is no longer accepted (the feed was compacted past it)."""


@dataclass
class ChangesPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool
    reset: bool = False
    latest_change_at: str | None = None


@dataclass
class HoldingsPage:
    as_of: str | None
    items: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool


@dataclass
class BlocksPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool


@dataclass
class TotalsReport:
    as_of: str
    totals: list[dict[str, Any]] = field(default_factory=list)


class FeedSource(Protocol):
    def info(self) -> dict[str, Any]: ...

    def changes(self, cursor: str | None, limit: int) -> ChangesPage: ...

    def holdings(self, as_of: str | None, cursor: str | None, limit: int) -> HoldingsPage: ...

    def totals(self) -> TotalsReport: ...

    def blocks(
        self,
        cooperative_approach_id: str | None,
        vintage: int | None,
        cursor: str | None,
        limit: int,
    ) -> BlocksPage: ...
