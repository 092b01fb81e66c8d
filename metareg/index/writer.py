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

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Table, func, insert, literal, select, tuple_
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from metareg.db.collector import collector_paused
from metareg.db.locks import share_index_log
from metareg.db.tables.index import CURRENT_TABLES, BlockSpan, Holding, RecordVersion
from metareg.db.upsert import batched, upsert, write_rows
from metareg.index import columns, first_transferred
from metareg.index.counts import Counts
from metareg.index.unitrange import NO_UNITS, status_columns, unit_columns
from metareg.records.canonical import dumps
from metareg.records.operations import Incoming, Operation, Withdrawal

LOOKUP_CHUNK = 4_096
LOOKUP_STEP = 256
DATE_COLUMNS = frozenset({"action_date", "as_of", "authorization_date", "status_date"})

# The record types the columnar copy holds (`columns.TABLES`).
COPIED = {"action": columns.ACTION, "holding": columns.HOLDING}

# A state of one identity: ("absent", None), ("current", hash) or ("gone", hash).
State = tuple[str, str | None]
ABSENT: State = ("absent", None)

_history = RecordVersion
_spans = BlockSpan
_holdings = Holding
HISTORY_COLUMNS = (
    "registry_id",
    "record_type",
    "uid",
    "change",
    "content_hash",
    "payload",
    "raw",
    "source",
    "received_at",
)
# History and current rows go to the driver as tuples in one bulk statement each; a
# larger batch than the generic default halves the round trips of an ingest batch.
WRITE_BATCH = 5_000


_LOOKUPS: dict[tuple[str, str, str, int], str] = {}


def _lookup_sql(connection: Connection, table: Table, count: int) -> str:
    """SELECT uid, content_hash of the registry's rows among `count` uids, in the
    driver's own parameter style (both SQLite's and psycopg's are positional)."""
    dialect = connection.dialect
    key = (dialect.name, dialect.paramstyle, table.name, count)
    sql = _LOOKUPS.get(key)
    if sql is None:
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        name = dialect.identifier_preparer.format_table(table)
        sql = _LOOKUPS[key] = (
            f"SELECT uid, content_hash FROM {name} WHERE registry_id = {marker} "
            f"AND uid IN ({', '.join([marker] * count)})"
        )
    return sql


def _step(state: State, op: Operation) -> tuple[State, str | None]:
    kind, current_hash = state
    if isinstance(op, Incoming):
        if kind == "current" and current_hash == op.content_hash:
            return state, None
        return ("current", op.content_hash), ("correction" if kind == "current" else "new")
    if kind == "current":
        return ("gone", current_hash), "withdrawal"
    return state, None


def _date_text(process: Any) -> Any:
    """A date field's value as SQLite's DATE column stores it: the record's own text
    when it is already YYYY-MM-DD (the text the column's processor would make of it),
    else the processor's text of the date."""

    def text(value: Any) -> Any:
        if type(value) is str and len(value) == 10 and value[4] == value[7] == "-":
            date.fromisoformat(value)  # refuses what is no date, as the conversion did
            return value
        return process(date.fromisoformat(str(value)))

    return text


class _DriverForms:
    """How the writer builds SQLite rows in the driver's own form: each column that
    has a bind processor converted here (the processor itself, called only for values
    that are not None; dates kept as their text), so the bulk write hands the rows to
    the driver as they are."""

    def __init__(self, dialect: Any) -> None:
        self._received = _history.c.received_at.type.dialect_impl(dialect).bind_processor(dialect)
        self._received_last: tuple[Any, Any] = (None, None)
        self.converted: dict[str, tuple[str, ...]] = {}
        self.names: dict[str, list[str]] = {}
        self._template: dict[str, dict[str, Any]] = {}
        self._pick: dict[str, Any] = {}
        self._convert: dict[str, list[tuple[str, Any, Any]]] = {}
        for record_type in COPIED:
            table = CURRENT_TABLES[record_type]
            names = [c.name for c in table.columns if c.name != "id"]
            convert = []
            for column in table.columns:
                if column.name == "id":
                    continue
                process = column.type.dialect_impl(dialect).bind_processor(dialect)
                if process is None:
                    continue
                if column.name in DATE_COLUMNS:
                    convert.append((column.name, _date_text(process), process(None)))
                else:
                    convert.append((column.name, process, process(None)))
            self.converted[record_type] = tuple(name for name, _, _ in convert)
            self.names[record_type] = names
            self._template[record_type] = dict.fromkeys(names)
            self._pick[record_type] = itemgetter(*names)
            self._convert[record_type] = convert

    def received_at(self, now: datetime) -> Any:
        if self._received is None:
            return now
        if self._received_last[0] is not now:
            self._received_last = (now, self._received(now))
        return self._received_last[1]

    def rows(
        self, registry: str, record_type: str, ops: Sequence[Incoming]
    ) -> list[tuple[Any, ...]]:
        """The current rows of block records (`_current_row`) of `registry`, in the
        driver's form (a row a reading process made already is taken as it is)."""
        template, pick = self._template[record_type], self._pick[record_type]
        convert = self._convert[record_type]
        action = record_type == "action"
        out = []
        for op in ops:
            if op.row is not None:
                out.append(op.row)
                continue
            normal = op.normal
            row = {
                **template,
                **normal,
                "registry_id": registry,
                "uid": op.uid,
                "content_hash": op.content_hash,
            }
            for name, process, none in convert:
                value = row[name]
                row[name] = none if value is None else process(value)
            if action:
                # Only an issuance with unit ids is parsed (~4 µs); every other is cheap.
                units = (
                    unit_columns(normal)
                    if normal.get("first_unit_id") and normal.get("action_type") == "Issuance"
                    else NO_UNITS
                )
                row["underlying_prefix"], row["underlying_first"], row["underlying_last"] = units
            out.append(pick(row))
        return out


def _driver_forms(dialect: Any) -> _DriverForms:
    forms = _FORMS.get(type(dialect))
    if forms is None:
        forms = _FORMS[type(dialect)] = _DriverForms(dialect)
    return forms


_FORMS: dict[type, _DriverForms] = {}


def reader_rows(registry_id: str, ops: Sequence[Operation]) -> None:
    """In a process reading for the writer of a SQLite index: each block record's
    current row of `registry_id` in the driver's form (`Incoming.row`) and its record
    of the columnar copy, row id 0 (`Incoming.columns`), as the writer would make them
    (it takes them as they are; a record it cannot encode is left to the writer).
    Why: the reading process has time to spare, and the writer is the ingest's and
    the sync's bottleneck; the two were an eighth of its work."""
    forms = _FORMS.get(SQLiteDialect_pysqlite) or _driver_forms(SQLiteDialect_pysqlite())
    for record_type, kind in COPIED.items():
        chosen = [op for op in ops if type(op) is Incoming and op.record_type == record_type]
        if not chosen:
            continue
        rows = forms.rows(registry_id, record_type, chosen)
        names = forms.names[record_type]
        coded = columns.encode_written(kind, np.zeros(len(rows), np.int64), names, rows)
        data = b"" if coded is None else coded.tobytes()
        size = columns.RECORD.itemsize
        for n, (op, row) in enumerate(zip(chosen, rows, strict=True)):
            op.row = row
            if data:
                op.columns = data[n * size : (n + 1) * size]


def shaped_for(engine: Engine, registry_id: str) -> Callable[[list[Operation]], None] | None:
    """What a reading process for a writer of `registry_id` into `engine` does ahead of
    it (`reader_rows`, picklable), or None: a PostgreSQL writer builds its own rows."""
    if engine.dialect.name != "sqlite":
        return None
    return partial(reader_rows, registry_id)


def _reader_records(ops: Sequence[Incoming]) -> Any | None:
    """The records of the columnar copy the reading process made for `ops` (their row
    ids 0), or None unless it made every one."""
    parts = [op.columns for op in ops]
    if not parts or None in parts:
        return None
    return np.frombuffer(b"".join(parts), dtype=columns.RECORD)  # type: ignore[arg-type]


def fold_copies(connection: Connection, written: Sequence[columns.Written] = ()) -> None:
    """Bring the copies kept at write time up to date, in the caller's transaction: the
    columnar copy (SQLite), given the rows written in it (`IndexWriter.unfolded`), and
    the first transfers' totals (SQLite: those inserted in it; PostgreSQL: the rows its
    triggers noted, gathered one per key). Once a
    transaction does for all its writers: each fold rewrites the copy's last segment."""
    columns.fold(connection, written)
    if first_transferred.kept(connection):
        first_transferred.fold(connection)
    else:
        first_transferred.gather_own(connection)


class IndexWriter:
    """Applies batches of operations from one reporting registry inside a transaction."""

    def __init__(
        self,
        connection: Connection,
        registry_id: str,
        source: str,
        now: datetime | None = None,
        *,
        fold: bool = True,
    ) -> None:
        """`fold`: bring the copies kept at write time up to date after each `apply`;
        without, the rows written gather in `unfolded`, for the caller's `fold_copies`
        once its transaction's writers are done (a sync writes many pages, each with a
        writer of its own, in one transaction)."""
        self.connection = connection
        self._fold = fold
        self.unfolded: list[columns.Written] = []
        self.registry_id = registry_id
        self.source = source[:1000]
        self.now = now or datetime.now(UTC)
        self._latest_as_of: str | None = None
        self._latest_known = False
        self._serialized = False
        self._written: list[columns.Written] = []  # this batch's rows for the copy
        # The rows this writer changed, by table (its current table and the history),
        # for the planner's statistics (`index.statistics.note_written`).
        self.changed: dict[str, int] = {}
        self._columns = {
            name: [c.name for c in model.columns if c.name != "id"]
            for name, model in CURRENT_TABLES.items()
        }
        # Where the columns of a current row that are not plain record fields sit,
        # worked out once per writer (rows are built with a C-level map over the rest).
        self._dates = {
            name: [n for n, column in enumerate(columns) if column in DATE_COLUMNS]
            for name, columns in self._columns.items()
        }
        self._fixed = {
            name: [columns.index(c) for c in ("registry_id", "uid", "content_hash")]
            for name, columns in self._columns.items()
        }
        # An action's derived unit range (prefix, first, last), computed here, never
        # read from the record.
        actions = self._columns["action"]
        self._units = slice(
            actions.index("underlying_prefix"), actions.index("underlying_last") + 1
        )
        assert actions[self._units] == ["underlying_prefix", "underlying_first", "underlying_last"]
        # A unit_status's parsed range, likewise derived when it is stored.
        statuses = self._columns["unit_status"]
        self._status_units = slice(statuses.index("unit_prefix"), statuses.index("unit_last") + 1)
        assert statuses[self._status_units] == ["unit_prefix", "unit_first", "unit_last"]
        self._status_text = [statuses.index(c) for c in ("project_id", "vintage")]
        # On SQLite, block rows (actions, holdings) and history rows are built in the
        # driver's own form (`_driver_rows`), so the bulk write converts nothing.
        self._driver = (
            _driver_forms(connection.dialect) if connection.dialect.name == "sqlite" else None
        )

    @collector_paused()  # a batch allocates a few containers per row, none in a cycle
    def apply(self, ops: Sequence[Operation]) -> Counts:
        counts = Counts()
        self._written = []
        if not self._serialized:
            # A check's snapshot waits for this transaction (its history ids must not
            # appear behind a watermark); other index writers do not (`db.locks`).
            share_index_log(self.connection)
            self._serialized = True
        by_type: dict[str, list[Operation]] = {}
        for op in ops:
            by_type.setdefault(op.record_type, []).append(op)
        # Authorizations first: a batch's actions may name them.
        for record_type in ("authorization", "action", "holding", "unit_status"):
            typed = by_type.get(record_type)
            if not typed:
                continue
            before = counts.changed
            if record_type == "holding":
                typed = self._prepare_snapshot(typed, counts)
            self._apply_typed(record_type, typed, counts)
            if changed := counts.changed - before:
                for name in (CURRENT_TABLES[record_type].name, _history.name):
                    self.changed[name] = self.changed.get(name, 0) + changed
        written, self._written = self._written, []
        if self._fold:
            fold_copies(self.connection, written)
        else:
            self.unfolded.extend(written)
        return counts

    # -- the generic path -------------------------------------------------------------

    def _apply_typed(self, record_type: str, ops: list[Operation], counts: Counts) -> None:
        table: Table = CURRENT_TABLES[record_type]
        uids = [op.uid for op in ops]
        if len(set(uids)) == len(uids) and not any(type(op) is Withdrawal for op in ops):
            # Every identity once and no withdrawal (an ingest's usual batch): each
            # record decided directly, as the general walk below would.
            self._apply_records(record_type, table, ops, counts)  # type: ignore[arg-type]
            return
        groups: dict[str, list[Operation]] = {}
        withdrawn: set[str] = set()
        for op in ops:
            groups.setdefault(op.uid, []).append(op)
            if isinstance(op, Withdrawal):
                withdrawn.add(op.uid)
        current = self._current_hashes(table, groups)
        # Only an identity that the batch withdraws needs its past: the net effect of
        # "report it, then withdraw it" on an already withdrawn record is nothing.
        past = self._last_history(record_type, [uid for uid in withdrawn if uid not in current])

        history: list[tuple[Any, ...]] = []
        stored: list[Incoming] = []
        deletes: list[str] = []
        for uid, uops in groups.items():
            if len(uops) == 1 and uid not in withdrawn:
                # The common case, one record for this identity in the batch, decided
                # directly (the same outcome as the general walk below): new where it
                # is not current (never reported, or withdrawn before), unchanged where
                # the current content is the same, else a correction.
                only = uops[0]
                assert isinstance(only, Incoming)
                known = current.get(uid)
                if known is None:
                    counts.accepted += 1
                    history.append(self._history_row(only, "new", None))
                elif known == only.content_hash:
                    counts.unchanged += 1
                    continue
                else:
                    counts.corrected += 1
                    history.append(self._history_row(only, "correction", known))
                stored.append(only)
                continue
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
                stored.append(last)
            elif start[0] == "current":
                deletes.append(uid)

        self._write(
            record_type,
            table,
            history,
            [op for op in stored if op.uid not in current],
            [op for op in stored if op.uid in current],
        )
        for chunk in batched(deletes, LOOKUP_CHUNK):
            self.connection.execute(
                table.delete().where(
                    table.c.registry_id == self.registry_id, table.c.uid.in_(chunk)
                )
            )

    def _apply_records(
        self, record_type: str, table: Table, ops: Sequence[Incoming], counts: Counts
    ) -> None:
        """`_apply_typed` of records of distinct identities and no withdrawal: new where
        the identity is not current (never reported, or withdrawn before), unchanged
        where the current content is the same, else a correction."""
        current = self._current_hashes(table, [op.uid for op in ops])
        history: list[tuple[Any, ...]] = []
        new: list[Incoming] = []
        corrected: list[Incoming] = []
        for op in ops:
            known = current.get(op.uid)
            if known is None:
                history.append(self._history_row(op, "new", None))
                new.append(op)
            elif known == op.content_hash:
                counts.unchanged += 1
            else:
                history.append(self._history_row(op, "correction", known))
                corrected.append(op)
        counts.corrected += len(corrected)
        counts.accepted += len(new)
        self._write(record_type, table, history, new, corrected)

    def _current_rows(self, record_type: str, ops: Sequence[Incoming]) -> list[tuple[Any, ...]]:
        """`_current_row` of each record (on SQLite, block rows in the driver's form)."""
        if self._driver is not None and record_type in COPIED:
            return self._driver.rows(self.registry_id, record_type, ops)
        return [self._current_row(record_type, op) for op in ops]

    def _write(
        self,
        record_type: str,
        table: Table,
        history: list[tuple[Any, ...]],
        new: Sequence[Incoming],
        corrected: Sequence[Incoming],
    ) -> None:
        """Write a batch's history rows and current rows (on SQLite both in the driver's
        form), and hand the block rows to the columnar copy. On SQLite the block records
        whose identity is not current are inserted with ids given here, past the table's
        largest (no trigger notes an insert: the copy takes them by id); every other
        current row is upserted."""
        driver = self._driver
        stored_time: tuple[str, ...] = ()
        if driver is not None:  # history's received_at in its stored text, as the driver takes it
            now = driver.received_at(self.now)
            history = [(*row[:8], now) for row in history]
            stored_time = ("received_at",)
        write_rows(
            self.connection,
            _history,
            HISTORY_COLUMNS,
            history,
            batch_size=WRITE_BATCH,
            converted=stored_time,
        )
        names = self._columns[record_type]
        kind = COPIED.get(record_type)
        converted = driver.converted[record_type] if driver is not None and kind is not None else ()
        inserted: list[tuple[Any, ...]] = []
        if new and kind is not None and columns.kept(self.connection):
            inserted = self._current_rows(record_type, new)
            self._insert(kind, table, names, inserted, converted, _reader_records(new))
        else:
            corrected = [*new, *corrected]
        upserts = self._current_rows(record_type, corrected) if corrected else []
        if upserts:
            marked = None if kind is None else columns.mark(self.connection)
            write_rows(
                self.connection,
                table,
                names,
                upserts,
                key=("registry_id", "uid"),
                batch_size=WRITE_BATCH,
                converted=converted,
            )
            if kind is not None and marked is not None:
                until = columns.mark(self.connection)
                assert until is not None
                records = _reader_records(corrected)
                self._written.append(
                    columns.Written(kind, names, upserts, marked, until, None, records)
                )
        if kind is not None and (inserted or upserts):
            self._widen_spans(names, [*inserted, *upserts])

    def _insert(
        self,
        kind: int,
        table: Table,
        names: list[str],
        rows: list[tuple[Any, ...]],
        converted: tuple[str, ...],
        records: Any | None,
    ) -> None:
        """Insert new block rows with the ids following the table's largest (this
        transaction writes already, so no other writer adds rows meanwhile), and hand
        them to the copy with those ids (and their records, if the reader made them)."""
        top = self.connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table.name}")
        first = int(top.scalar_one()) + 1
        ids = range(first, first + len(rows))
        write_rows(
            self.connection,
            table,
            ("id", *names),
            [(n, *row) for n, row in zip(ids, rows, strict=True)],
            batch_size=WRITE_BATCH,
            converted=converted,
        )
        until = columns.mark(self.connection)
        assert until is not None
        self._written.append(columns.Written(kind, names, rows, until, until, ids, records))

    def _current_hashes(self, table: Table, uids: Iterable[str]) -> dict[str, str]:
        """The content hash of each of `uids` that is current, one statement per chunk
        (on SQLite its text built once per chunk size and given to the driver directly:
        the expanding IN of a SQLAlchemy select cost a third more than the lookup itself)."""
        found: dict[str, str] = {}
        if self.connection.dialect.name != "sqlite":
            # PostgreSQL: SQLAlchemy's statement. A lookup once went from 0.1 s to 20 s
            # while a 1M ingest grew the table: the tables had never been analysed
            # (`metareg.index.statistics` now analyses them as they grow).
            for chunk in batched(uids, LOOKUP_CHUNK):
                rows = self.connection.execute(
                    select(table.c.uid, table.c.content_hash).where(
                        table.c.registry_id == self.registry_id, table.c.uid.in_(chunk)
                    )
                )
                found.update({uid: digest for uid, digest in rows})
            return found
        for chunk in batched(uids, LOOKUP_CHUNK):
            # Padded with NULLs (which match nothing) to a multiple of LOOKUP_STEP, so
            # there are few texts (LOOKUP_CHUNK / LOOKUP_STEP per table).
            size = -(-len(chunk) // LOOKUP_STEP) * LOOKUP_STEP
            sql = _lookup_sql(self.connection, table, size)
            padding = (None,) * (size - len(chunk))
            params = (self.registry_id, *chunk, *padding)
            found.update(self.connection.exec_driver_sql(sql, params).all())
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

    def _history_row(self, op: Operation, change: str, before: str | None) -> tuple[Any, ...]:
        """A history row, in the order of HISTORY_COLUMNS."""
        if isinstance(op, Incoming):
            # A withdrawal row names the content it withdrew; a record row its own.
            digest: str | None = op.content_hash
            payload: str | None = op.payload or dumps(op.normal)
        else:
            digest, payload = before, None
        return (
            self.registry_id,
            op.record_type,
            op.uid,
            change,
            digest,
            payload,
            op.raw,
            f"{self.source}:{op.location}" if op.location else self.source,
            self.now,
        )

    def _current_row(self, record_type: str, op: Incoming) -> tuple[Any, ...]:
        """A current-table row, in the order of self._columns[record_type]."""
        row = list(map(op.normal.get, self._columns[record_type]))
        for n in self._dates[record_type]:
            row[n] = date.fromisoformat(str(row[n]))
        registry, uid, digest = self._fixed[record_type]
        row[registry], row[uid], row[digest] = self.registry_id, op.uid, op.content_hash
        if record_type == "action":
            # Only an issuance with unit ids is parsed (~4 µs); every other row is cheap.
            normal = op.normal
            if normal.get("first_unit_id") and normal.get("action_type") == "Issuance":
                row[self._units] = unit_columns(normal)
            else:
                row[self._units] = NO_UNITS
        elif record_type == "unit_status":
            # The programme's units parsed once, here, by the serial parsers; project
            # and vintage are kept as the text the programme gives.
            row[self._status_units] = status_columns(op.normal)
            for n in self._status_text:
                if row[n] is not None:
                    row[n] = str(row[n])
        return tuple(row)

    def _widen_spans(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        spans: dict[tuple[str, str], int] = {}
        ca, reg = columns.index("cooperative_approach_id"), columns.index("party_registry_id")
        first, last = columns.index("first_id"), columns.index("last_id")
        for row in rows:
            key = (row[ca], row[reg])
            span = row[last] - row[first]
            if span > spans.get(key, -1):
                spans[key] = span
        # Spans only grow: a pair whose stored span is already as long is left alone, so
        # that writers of different registries reporting blocks of one pair do not wait
        # for each other's lock on its row. The rest in one order (no deadlock).
        known = self.connection.execute(
            select(
                _spans.c.cooperative_approach_id, _spans.c.party_registry_id, _spans.c.max_span
            ).where(
                tuple_(_spans.c.cooperative_approach_id, _spans.c.party_registry_id).in_(
                    list(spans)
                )
            )
        )
        for ca_id, registry_id, stored in known:
            if stored >= spans[(ca_id, registry_id)]:
                del spans[(ca_id, registry_id)]
        if not spans:
            return
        upsert(
            self.connection,
            _spans,
            [
                {"cooperative_approach_id": ca, "party_registry_id": reg, "max_span": span}
                for (ca, reg), span in sorted(spans.items())
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
            rows: list[tuple[Any, ...]] = []
            for op in stale:
                if past.get(op.uid, ("", None))[1] == op.content_hash:
                    counts.unchanged += 1
                    continue
                past[op.uid] = ("stale", op.content_hash)
                rows.append(self._history_row(op, "stale", None))
                counts.stale += 1
            write_rows(self.connection, _history, HISTORY_COLUMNS, rows, batch_size=WRITE_BATCH)
        stale_ids = {id(op) for op in stale}
        return [op for op in ops if id(op) not in stale_ids]
