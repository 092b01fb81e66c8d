"""An in-memory FeedSource: the reference implementation, used by tests and the simulator.

The change log is a list; a cursor is "<epoch>.<position after an item>". `compact(n)`
forgets the first n items (cursors before them answer 410), `request_reset()` makes the
next change page ask for a full resync. Thread-safe: the server may run in a thread while
a test mutates the registry. A subclass that lets the registry act over time (the
simulator's) overrides `refresh`, called before every answer.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from metareg.exchange.source import (
    BlocksPage,
    ChangesPage,
    CursorGone,
    HoldingsPage,
    TotalsReport,
)
from metareg.records.canonical import BLOCK_KEY_FIELDS, normalize, record_uid

T = TypeVar("T")

IDENTITY_FIELDS = {
    "action": ("action_id",),
    "authorization": ("authorization_id", "version"),
    "holding": ("as_of", "account_id", *BLOCK_KEY_FIELDS),
    "unit_status": ("status_id",),
}


def identity_of(record: dict[str, Any]) -> dict[str, Any]:
    """The `of` of a withdrawal: record_type plus the identity fields."""
    normal = normalize(record)
    fields = IDENTITY_FIELDS[normal["record_type"]]
    return {"record_type": normal["record_type"], **{f: normal[f] for f in fields}}


def page_of(rows: Sequence[T], start: int, limit: int) -> tuple[list[T], int, bool]:
    """One page of an in-memory listing: up to `limit` rows from `start`, where the next
    page starts, and whether there is one."""
    items = list(rows[start : start + limit])
    end = start + len(items)
    return items, end, end < len(rows)


def _position(cursor: str | None) -> int:
    """A listing's cursor is the position of its next row (anything else: the start)."""
    return int(cursor) if cursor and cursor.isdigit() else 0


class InMemoryFeedSource:
    def __init__(self, registry_id: str, name: str = "", party_id: str | None = None) -> None:
        self.registry_id = registry_id
        self.name = name
        self.party_id = party_id or registry_id[:3]
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self._offset = 0  # items forgotten by compact()
        self._current: dict[tuple[str, str], dict[str, Any]] = {}
        self._snapshots: dict[str, list[dict[str, Any]]] = {}
        self._reset_pending = False
        self._latest_change_at: str | None = None
        self._epoch = 0  # bumped by rebuild(): every earlier cursor is refused

    # -- mutations (the registry's own business) -------------------------------------

    def upsert(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._log.append({"op": "upsert", "record": record})
            self._current[(record["record_type"], record_uid(normalize(record)))] = record
            self._touch()

    def withdraw(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._log.append({"op": "withdraw", "of": identity_of(record)})
            self._current.pop((record["record_type"], record_uid(normalize(record))), None)
            self._touch()

    def set_holdings(self, as_of: str, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._snapshots[as_of] = list(rows)

    def compact(self, count: int) -> None:
        with self._lock:
            drop = max(0, min(count, len(self._log)))
            self._log = self._log[drop:]
            self._offset += drop

    def rebuild(self) -> None:
        """Replace the log by one upsert per current record (tombstones dropped), as a
        registry migrating its database might: every cursor given before is refused."""
        with self._lock:
            self._log = [{"op": "upsert", "record": r} for r in self._current.values()]
            self._offset = 0
            self._epoch += 1

    def forget(self, record: dict[str, Any]) -> None:
        """Drop a record without a tombstone (only a full resync can notice)."""
        with self._lock:
            self._current.pop((record["record_type"], record_uid(normalize(record))), None)

    def request_reset(self) -> None:
        with self._lock:
            self._reset_pending = True

    def _touch(self) -> None:
        self._latest_change_at = datetime.now(UTC).isoformat()

    def refresh(self) -> None:
        """Called before every answer; the reference registry changes only when told."""

    # -- FeedSource ------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {
            "registry_id": self.registry_id,
            "party_id": self.party_id,
            "name": self.name,
            "api_version": "1",
        }

    def changes(self, cursor: str | None, limit: int) -> ChangesPage:
        self.refresh()
        with self._lock:
            if self._reset_pending:
                self._reset_pending = False
                return ChangesPage([], None, False, reset=True)
            if cursor is None:
                position = 0
                if self._offset:
                    raise CursorGone("the feed's beginning was compacted")
            else:
                epoch, _, number = cursor.partition(".")
                if not (epoch.isdigit() and number.isdigit()) or int(epoch) != self._epoch:
                    raise CursorGone(f"cursor {cursor!r} is no longer accepted")
                position = int(number)
                if position < self._offset or position > self._offset + len(self._log):
                    raise CursorGone(f"cursor {cursor!r} is no longer accepted")
            items, end, has_more = page_of(self._log, position - self._offset, limit)
            return ChangesPage(
                items,
                f"{self._epoch}.{self._offset + end}",
                has_more=has_more,
                latest_change_at=self._latest_change_at,
            )

    def holdings(self, as_of: str | None, cursor: str | None, limit: int) -> HoldingsPage:
        self.refresh()
        with self._lock:
            if as_of is None:
                as_of = max(self._snapshots) if self._snapshots else None
            rows = self._snapshots.get(as_of, []) if as_of else []
            items, end, has_more = page_of(rows, _position(cursor), limit)
            return HoldingsPage(as_of, items, str(end), has_more=has_more)

    def _current_blocks(self) -> list[dict[str, Any]]:
        blocks = [r for (kind, _), r in self._current.items() if kind == "action"]
        if self._snapshots:
            blocks += self._snapshots[max(self._snapshots)]
        return blocks

    def totals(self) -> TotalsReport:
        self.refresh()
        with self._lock:
            sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
            for record in self._current_blocks():
                key = (
                    record["record_type"],
                    record["cooperative_approach_id"],
                    int(record["vintage"]),
                    record.get("action_type"),
                )
                sums[key][0] += 1
                sums[key][1] += int(record["last_id"]) - int(record["first_id"]) + 1
            rows = []
            for (record_type, ca, vintage, action_type), (blocks, units) in sorted(
                sums.items(), key=lambda kv: tuple(str(p) for p in kv[0])
            ):
                row: dict[str, Any] = {
                    "record_type": record_type,
                    "cooperative_approach_id": ca,
                    "vintage": vintage,
                    "blocks": blocks,
                    "units": units,
                }
                if record_type == "action":
                    row["action_type"] = action_type
                rows.append(row)
            return TotalsReport(datetime.now(UTC).isoformat(), rows)

    def blocks(
        self,
        cooperative_approach_id: str | None,
        vintage: int | None,
        cursor: str | None,
        limit: int,
    ) -> BlocksPage:
        self.refresh()
        with self._lock:
            selected = [
                {**identity_of(r), **{f: r[f] for f in BLOCK_KEY_FIELDS}}
                for r in self._current_blocks()
                if (
                    cooperative_approach_id is None
                    or r["cooperative_approach_id"] == cooperative_approach_id
                )
                and (vintage is None or int(r["vintage"]) == vintage)
            ]
            selected.sort(key=lambda b: (b["record_type"], b["first_id"], str(b)))
            items, end, has_more = page_of(selected, _position(cursor), limit)
            return BlocksPage(items, str(end), has_more=has_more)
