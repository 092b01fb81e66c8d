"""Writing to the unified index with RECORDS.md's identity semantics.

For each identity in a batch the writer compares where the batch leaves it with
where it found it:

- the same content again changes nothing (no history row, no write);
- different content under the same identity is a correction: the new content
  becomes current and the old stays in history;
- a withdrawal removes the record from the current index; history keeps it;
- holdings are snapshots: a newer `as_of` replaces the registry's older rows
  wholesale ("superseded"), and rows of an older snapshot go to history only
  ("stale").

Because a batch is judged by its net effect, ingesting the same file twice leaves
the current records and their history exactly as they were. The caller owns the
transaction: the sync engine commits the cursor in the same one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, literal, select

from metareg.db.tables import CURRENT_TABLES, BlockSpan, Holding, RecordVersion
from metareg.db.upsert import batched, insert_many, upsert
from metareg.index.counts import Counts
from metareg.index.incoming import Incoming, Operation, Withdrawal
from metareg.records import dumps

LOOKUP_CHUNK = 5_000
DATE_COLUMNS = frozenset({"action_date", "as_of", "authorization_date"})

# A state of one identity: ("absent", None), ("current", hash) or ("gone", hash).
State = tuple[str, str | None]
ABSENT: State = ("absent", None)

_history = RecordVersion.__table__  # type: ignore[attr-defined]
_spans = BlockSpan.__table__  # type: ignore[attr-defined]
_holdings = Holding.__table__  # type: ignore[attr-defined]


def _step(state: State, op: Operation) -> tuple[State, str | None]:
    kind, current_hash = state
    if isinstance(op, Incoming):
        if kind == "current" and current_hash == op.content_hash:
            return state, None
        return ("current", op.content_hash), ("correction" if kind == "current" else "new")
    if kind == "current":
        return ("gone", current_hash), "withdrawal"
    return state, None


class IndexWriter:
    """Applies batches of operations from one reporting registry inside a transaction."""

    def __init__(
        self, connection: Connection, registry_id: str, source: str, now: datetime | None = None
    ) -> None:
        self.connection = connection
        self.registry_id = registry_id
        self.source = source[:1000]
        self.now = now or datetime.now(UTC)
        self._latest_as_of: str | None = None
        self._latest_known = False
        self._columns = {
            name: [c.name for c in model.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
            for name, model in CURRENT_TABLES.items()
        }

    def apply(self, ops: Sequence[Operation]) -> Counts:
        counts = Counts()
        by_type: dict[str, list[Operation]] = {}
        for op in ops:
            by_type.setdefault(op.record_type, []).append(op)
        # Authorizations first: a batch's actions may name them.
        for record_type in ("authorization", "action", "holding"):
            typed = by_type.get(record_type)
            if not typed:
                continue
            if record_type == "holding":
                typed = self._prepare_snapshot(typed, counts)
            self._apply_typed(record_type, typed, counts)
        return counts

    # -- the generic path -------------------------------------------------------------

    def _apply_typed(self, record_type: str, ops: list[Operation], counts: Counts) -> None:
        table: Table = CURRENT_TABLES[record_type].__table__  # type: ignore[attr-defined]
        groups: dict[str, list[Operation]] = {}
        for op in ops:
            groups.setdefault(op.uid, []).append(op)
        current = self._current_hashes(table, groups)
        # Only an identity that the batch withdraws needs its past: the net effect of
        # "report it, then withdraw it" on an already withdrawn record is nothing.
        needs_past = [
            uid
            for uid, uops in groups.items()
            if uid not in current and any(isinstance(op, Withdrawal) for op in uops)
        ]
        past = self._last_history(record_type, needs_past)

        history: list[dict[str, Any]] = []
        upserts: list[dict[str, Any]] = []
        deletes: list[str] = []
        for uid, uops in groups.items():
            if uid in current:
                start: State = ("current", current[uid])
            elif uid in past and past[uid][0] in ("withdrawal", "superseded"):
                start = ("gone", past[uid][1])
            else:
                start = ABSENT
            state = start
            transitions: list[tuple[str, Operation, str | None]] = []
            for op in uops:
                before = state[1]
                state, change = _step(state, op)
                if change:
                    transitions.append((change, op, before))
            if state == start:
                counts.unchanged += len(uops)
                continue
            counts.unchanged += len(uops) - len(transitions)
            for change, op, before in transitions:
                history.append(self._history_row(op, change, before))
                if change == "new":
                    counts.accepted += 1
                elif change == "correction":
                    counts.corrected += 1
                else:
                    counts.withdrawn += 1
            if state[0] == "current":
                last = next(op for op in reversed(uops) if isinstance(op, Incoming))
                upserts.append(self._current_row(record_type, last))
            elif start[0] == "current":
                deletes.append(uid)

        insert_many(self.connection, _history, history)
        if upserts:
            upsert(self.connection, table, upserts, key=("registry_id", "uid"))
            if record_type != "authorization":
                self._widen_spans(upserts)
        for chunk in batched(deletes, LOOKUP_CHUNK):
            self.connection.execute(
                table.delete().where(
                    table.c.registry_id == self.registry_id, table.c.uid.in_(chunk)
                )
            )

    def _current_hashes(self, table: Table, uids: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in batched(uids, LOOKUP_CHUNK):
            rows = self.connection.execute(
                select(table.c.uid, table.c.content_hash).where(
                    table.c.registry_id == self.registry_id, table.c.uid.in_(chunk)
                )
            )
            found.update({uid: digest for uid, digest in rows})
        return found

    def _last_history(
        self, record_type: str, uids: Iterable[str]
    ) -> dict[str, tuple[str, str | None]]:
        """The latest history entry (change, content hash) of each identity."""
        last: dict[str, tuple[str, str | None]] = {}
        for chunk in batched(uids, LOOKUP_CHUNK):
            rows = self.connection.execute(
                select(_history.c.uid, _history.c.change, _history.c.content_hash)
                .where(
                    _history.c.registry_id == self.registry_id,
                    _history.c.record_type == record_type,
                    _history.c.uid.in_(chunk),
                )
                .order_by(_history.c.id)
            )
            for uid, change, digest in rows:
                last[uid] = (change, digest)
        return last

    def _history_row(self, op: Operation, change: str, before: str | None) -> dict[str, Any]:
        is_record = isinstance(op, Incoming)
        return {
            "registry_id": self.registry_id,
            "record_type": op.record_type,
            "uid": op.uid,
            "change": change,
            # A withdrawal row names the content it withdrew.
            "content_hash": op.content_hash if is_record else before,
            "payload": dumps(op.normal) if isinstance(op, Incoming) else None,
            "raw": op.raw,
            "source": f"{self.source}:{op.location}" if op.location else self.source,
            "received_at": self.now,
        }

    def _current_row(self, record_type: str, op: Incoming) -> dict[str, Any]:
        normal = op.normal
        row = {column: normal.get(column) for column in self._columns[record_type]}
        for column in DATE_COLUMNS.intersection(row):
            row[column] = date.fromisoformat(str(row[column]))
        row["registry_id"] = self.registry_id
        row["uid"] = op.uid
        row["content_hash"] = op.content_hash
        return row

    def _widen_spans(self, rows: list[dict[str, Any]]) -> None:
        spans: dict[tuple[str, str], int] = {}
        for row in rows:
            key = (row["cooperative_approach_id"], row["party_registry_id"])
            span = row["last_id"] - row["first_id"]
            if span > spans.get(key, -1):
                spans[key] = span
        upsert(
            self.connection,
            _spans,
            [
                {"cooperative_approach_id": ca, "party_registry_id": reg, "max_span": span}
                for (ca, reg), span in spans.items()
            ],
            key=("cooperative_approach_id", "party_registry_id"),
            update=(),
            keep_greatest=("max_span",),
        )

    # -- holdings snapshots ---------------------------------------------------------

    def latest_as_of(self) -> str | None:
        if not self._latest_known:
            value = self.connection.execute(
                select(func.max(_holdings.c.as_of)).where(
                    _holdings.c.registry_id == self.registry_id
                )
            ).scalar()
            self._latest_as_of = value.isoformat() if value else None
            self._latest_known = True
        return self._latest_as_of

    def supersede_before(self, as_of: str) -> int:
        """Move every current holding of this registry older than `as_of` to history."""
        cutoff = date.fromisoformat(as_of)
        older = select(
            _holdings.c.registry_id,
            literal("holding"),
            _holdings.c.uid,
            literal("superseded"),
            _holdings.c.content_hash,
            literal(self.source),
            literal(self.now, type_=_history.c.received_at.type),
        ).where(_holdings.c.registry_id == self.registry_id, _holdings.c.as_of < cutoff)
        self.connection.execute(
            insert(_history).from_select(
                [
                    "registry_id",
                    "record_type",
                    "uid",
                    "change",
                    "content_hash",
                    "source",
                    "received_at",
                ],
                older,
            )
        )
        deleted = self.connection.execute(
            _holdings.delete().where(
                _holdings.c.registry_id == self.registry_id, _holdings.c.as_of < cutoff
            )
        )
        return max(deleted.rowcount or 0, 0)

    def _prepare_snapshot(self, ops: list[Operation], counts: Counts) -> list[Operation]:
        """Handle snapshot succession; return the operations that touch the current index."""
        dates = [op.normal["as_of"] for op in ops if isinstance(op, Incoming)]
        latest = self.latest_as_of()
        if dates and (latest is None or max(dates) > latest):
            if latest is not None:
                counts.superseded += self.supersede_before(max(dates))
            self._latest_as_of = latest = max(dates)
        stale = [
            op
            for op in ops
            if isinstance(op, Incoming) and latest is not None and op.normal["as_of"] < latest
        ]
        if stale:
            past = self._last_history("holding", {op.uid for op in stale})
            rows = []
            for op in stale:
                if past.get(op.uid, ("", None))[1] == op.content_hash:
                    counts.unchanged += 1
                    continue
                past[op.uid] = ("stale", op.content_hash)
                rows.append(self._history_row(op, "stale", None))
                counts.stale += 1
            insert_many(self.connection, _history, rows)
        stale_ids = {id(op) for op in stale}
        return [op for op in ops if id(op) not in stale_ids]
