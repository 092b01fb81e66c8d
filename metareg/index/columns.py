"""A columnar copy of the current block records (actions and holdings), kept on SQLite.

Why: the full check screens every current block (`detection.prefilter.blocks`); read
out of SQLite's row store, even as SQL string aggregates parsed by numpy, that read is
most of the check at a million blocks. This copy holds the screened columns as packed
integers, so the check reads it with one `np.frombuffer`.

What it holds, per record, rule-neutral (the screen maps these codes to its rule kinds):
row id, (cooperative approach, originating registry) as one key (`pair_key`),
`first_id`, `last_id`, the date as YYYYMMDD, the action type or account type as a code
of the schema's lists (0: another), metric and mitigation type codes, vintage, whether
`quantity_tco2e` differs from the block size (conservatively: also any size where a
float could round), the Party codes (first transferring, reporting, acquiring,
transferring; `party_code`) and the reporting registry (`registry_key`). A record
whose text the encoding cannot hold is stored flagged `BAD`, and `load` then refuses
(`Unencodable`): the check sweeps every block, as before this copy existed.

How it stays right: SQLite triggers on `actions` and `holdings` note every updated or
deleted row id in `index_columns_dirty`, whichever code wrote (the index writer, a
snapshot's supersession, a plain SQL statement); an inserted row is found by its id,
past the largest id the copy has folded (`db.triggers.folded`: an insert trigger cost
each inserted row about a third of its insert). `fold` encodes the noted and the new
rows and rewrites the segments (`SEGMENT` ids each, one BLOB per segment) that hold
them, empties the notes and moves the mark to the table's largest id: the index writer
folds at the end of each batch, in its transaction; `load` folds whatever is left
first. The rows the index writer wrote it hands to its fold (`Written`): the rows it
inserted with the ids it gave them, the rows it updated matched to their ids through
the notes their update left, in order; every other row (and any of those a later
statement changed) is read back. The copy therefore commits or rolls back with the
rows it copies, and is never read stale. `load` also checks that the triggers exist
(else it creates them and rebuilds the copy).

A deleted row's id can be given again to the next insert (SQLite gives the largest id
plus one): if the copy folded the delete, the mark moved down with the table's largest
id, so the insert lands past it; if not, the delete's note makes the fold read that id
again.

PostgreSQL keeps no copy: there the screen aggregates in the server, in parallel.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection

from metareg.db import triggers

SEGMENT = 8192  # row ids per stored segment
ACTION, HOLDING = 0, 1
TABLES = {ACTION: "actions", HOLDING: "holdings"}
STORE, DIRTY = "index_columns", "index_columns_dirty"

# The schema's lists (records/schemas), as codes from 1; 0 is "not in the list".
ACTION_TYPES = (
    "Issuance",
    "Authorization",
    "First transfer",
    "Transfer",
    "Acquisition",
    "Use",
    "Cancellation",
    "Voluntary cancellation",
)
ACCOUNT_TYPES = ("holding", "government-holding", "cancellation", "retirement")
METRICS = {"GHG": 1, "non-GHG": 2}
MITIGATION_TYPES = {"Emission reductions": 1, "Removals": 2, "Emission reductions and removals": 3}
NO_MITIGATION, UNKNOWN_MITIGATION = 0, 4
TYPE_CODES = {
    ACTION: {name: n + 1 for n, name in enumerate(ACTION_TYPES)},
    HOLDING: {name: n + 1 for n, name in enumerate(ACCOUNT_TYPES)},
}

# flags
MISMATCH, BAD = 1, 2

RECORD = np.dtype(
    [
        ("id", "<i8"),
        ("pair", "<i8"),
        ("first", "<i8"),
        ("last", "<i8"),
        ("vintage", "<i8"),
        ("day", "<i4"),
        ("ftp", "<i4"),  # first transferring Party
        ("reporting_party", "<i4"),
        ("acquiring", "<i4"),
        ("transferring", "<i4"),
        ("reporting", "<i4"),  # the reporting registry (`registry_key`)
        ("type", "u1"),
        ("metric", "u1"),
        ("mitigation", "u1"),
        ("flags", "u1"),
    ]
)

REGISTRY_KEYS = 26**3 * 100
NO_PARTY = "---"  # never a Party code (^[A-Z]{3}$): an absent acquiring/transferring Party


class Unencodable(Exception):
    """The copy holds a record it could not encode: screen nothing, sweep everything."""


def party_code(text: str) -> int | None:
    """The integer of a three-character ASCII Party code."""
    raw = text.encode("ascii", "replace")
    if len(raw) != 3:
        return None
    return (raw[0] << 16) | (raw[1] << 8) | raw[2]


NO_PARTY_CODE = party_code(NO_PARTY)


def registry_key(registry_id: str) -> int | None:
    """A registry id ^[A-Z]{3}[0-9]{2}$ as an integer below REGISTRY_KEYS."""
    if (
        len(registry_id) != 5
        or not registry_id.isascii()
        or not registry_id[:3].isupper()
        or not registry_id[:3].isalpha()
        or not registry_id[3:].isdigit()
    ):
        return None
    a, b, c = (ord(ch) - ord("A") for ch in registry_id[:3])
    return ((a * 26 + b) * 26 + c) * 100 + int(registry_id[3:])


def pair_key(approach: str, registry_id: str) -> int | None:
    """(cooperative approach ^CA[0-9]{4}$, registry) as one integer."""
    registry = registry_key(registry_id)
    if (
        registry is None
        or len(approach) != 6
        or not approach.isascii()
        or approach[:2] != "CA"
        or not approach[2:].isdigit()
    ):
        return None
    return int(approach[2:]) * REGISTRY_KEYS + registry


def approach_number(approach: str) -> int | None:
    """The number of a cooperative approach id (`pair_key // REGISTRY_KEYS`)."""
    key = pair_key(approach, "AAA00")
    return None if key is None else key // REGISTRY_KEYS


def _day(text: Any) -> int | None:
    if type(text) is date:  # as the index writer has it: the same as its ISO text
        return text.year * 10_000 + text.month * 100 + text.day
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not text.isascii():
        return None
    digits = text[:4] + text[5:7] + text[8:]
    return int(digits) if digits.isdigit() else None


class _Cache(dict[Any, int]):
    """Text -> code, computed once per distinct text (-1: not encodable)."""

    def __init__(self, encode: Any) -> None:
        super().__init__()
        self.encode = encode

    def __missing__(self, key: Any) -> int:
        try:
            value = self.encode(key)
        except (TypeError, ValueError, AttributeError, UnicodeError):
            value = None
        code = -1 if value is None else int(value)
        self[key] = code
        return code


def _parties() -> _Cache:
    return _Cache(lambda t: NO_PARTY_CODE if t is None else party_code(t) if t.isascii() else None)


# The columns each record is encoded from, in `encode`'s order (after the row id);
# holdings have no acquiring and transferring Party.
FIELDS = {
    ACTION: (
        "cooperative_approach_id", "party_registry_id", "first_id", "last_id", "vintage",
        "quantity_tco2e", "action_date", "action_type", "metric", "mitigation_type",
        "first_transferring_party_id", "registry_id", "acquiring_party_id",
        "transferring_party_id",
    ),
    HOLDING: (
        "cooperative_approach_id", "party_registry_id", "first_id", "last_id", "vintage",
        "quantity_tco2e", "as_of", "account_type", "metric", "mitigation_type",
        "first_transferring_party_id", "registry_id",
    ),
}  # fmt: skip
_ABSENT = {ACTION: 0, HOLDING: 2}  # trailing fields a kind does not have (NULL)

_SELECT = {
    kind: f"SELECT id, {', '.join(fields)}{', NULL' * _ABSENT[kind]} FROM {TABLES[kind]}"
    for kind, fields in FIELDS.items()
}


def _integers(values: tuple[Any, ...], bad: Any) -> Any:
    if set(map(type, values)) == {int}:
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:
            pass
    out = np.zeros(len(values), dtype=np.int64)
    for n, value in enumerate(values):
        if type(value) is int and -(2**63) <= value < 2**63:
            out[n] = value
        else:
            bad[n] = True
    return out


_NUMBERS = {int, float, type(None)}


def _quantities(values: tuple[Any, ...], bad: Any) -> Any:
    """Quantities as floats (NaN: not given); a non-number is `bad`."""
    if set(map(type, values)) <= _NUMBERS:
        try:
            return np.array(values, dtype=np.float64)  # None: NaN
        except OverflowError:
            pass
    out = np.full(len(values), np.nan)
    for n, value in enumerate(values):
        if value is None:
            continue
        if type(value) in (int, float):
            out[n] = float(value) if abs(value) < 1e300 else np.inf
        else:
            bad[n] = True
    return out


def _coded(cache: _Cache, values: Iterable[Any]) -> Any:
    return np.fromiter(map(cache.__getitem__, values), dtype=np.int64)


def _of_list(codes: dict[str, int], other: int, null: int) -> _Cache:
    """A code of a list's text (`other`: a text not in it, `null`: NULL, -1: no text)."""
    return _Cache(
        lambda t: null if t is None else codes.get(t, other) if isinstance(t, str) else None
    )


def encode(kind: int, rows: Sequence[Any]) -> Any:
    """Rows of `_SELECT[kind]` as records of `RECORD` (a code per distinct text, looked
    up once per row at C speed)."""
    if not rows:
        return np.zeros(0, dtype=RECORD)
    ids, *values = zip(*rows, strict=True)
    return _encode(kind, ids, values)


# What the index writer hands over must be exactly what the row reads back as (the
# types SQLite stores unchanged): anything else is read back from the row instead.
_TEXT = frozenset({str, type(None)})
_FIELD_TYPES = {
    "first_id": frozenset({int}),
    "last_id": frozenset({int}),
    "vintage": frozenset({int}),
    "quantity_tco2e": frozenset({int, float, type(None)}),  # REAL: an int reads back as float
    # stored as its ISO text: a date, or (on SQLite, in the driver's form) that text
    "action_date": frozenset({date, str}),
    "as_of": frozenset({date, str}),
}


def encode_written(
    kind: int, ids: Any, names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Any | None:
    """Rows as the index writer wrote them (tuples in the order of `names`, `ids` their
    row ids) as records of `RECORD`, the same as `encode` of the rows read back; None
    when a value is not of a type the row stores unchanged."""
    if not rows:
        return np.zeros(0, dtype=RECORD)
    position = {name: n for n, name in enumerate(names)}
    # Column by column: a transposition of every column of the rows cost five times more.
    values = [tuple(map(itemgetter(position[field]), rows)) for field in FIELDS[kind]]
    for field, column in zip(FIELDS[kind], values, strict=True):
        if not set(map(type, column)) <= _FIELD_TYPES.get(field, _TEXT):
            return None
    values += [(None,) * len(rows)] * _ABSENT[kind]
    return _encode(kind, tuple(ids.tolist()), values)


def _codings() -> dict[str, _Cache]:
    parties = _parties()  # NULL: no Party
    return {
        "pair": _Cache(lambda key: pair_key(*key)),
        "day": _Cache(_day),
        "party": parties,
        "ftp": _Cache(lambda t: None if t is None else parties[t]),
        "registry": _Cache(registry_key),
        "reporting_party": _Cache(lambda r: parties[r[:3]]),
        TABLES[ACTION]: _of_list(TYPE_CODES[ACTION], 0, 0),
        TABLES[HOLDING]: _of_list(TYPE_CODES[HOLDING], 0, 0),
        "metric": _of_list(METRICS, 0, 0),
        "mitigation": _of_list(MITIGATION_TYPES, UNKNOWN_MITIGATION, NO_MITIGATION),
    }


# The codes of the texts seen, kept from one batch to the next (a value's code depends
# on nothing else; every value a text column can read back as is `str` or None, and
# the only keys equal across types, numbers, all code -1), each emptied past a bound.
_CODES = _codings()
CODES_KEPT = 1 << 16


def _encode(kind: int, ids: tuple[Any, ...], values: Sequence[tuple[Any, ...]]) -> Any:
    """Records of `RECORD` from columns of values (those of FIELDS[kind], then NULLs)."""
    out = np.zeros(len(ids), dtype=RECORD)
    (approaches, originating, first, last, vintage, quantity, day, type_, metric,
     mitigation, ftp, registry, acquiring, transferring) = values  # fmt: skip
    bad = np.zeros(len(ids), dtype=bool)
    out["id"] = _integers(ids, bad)
    out["first"] = _integers(first, bad)
    out["last"] = _integers(last, bad)
    out["vintage"] = _integers(vintage, bad)
    for cache in _CODES.values():
        if len(cache) > CODES_KEPT:
            cache.clear()
    codes = _CODES
    out["pair"] = _coded(codes["pair"], zip(approaches, originating, strict=True))
    out["day"] = _coded(codes["day"], day)
    out["ftp"] = _coded(codes["ftp"], ftp)
    out["acquiring"] = _coded(codes["party"], acquiring)
    out["transferring"] = _coded(codes["party"], transferring)
    out["reporting"] = _coded(codes["registry"], registry)
    # The reporting registry's Party (valid whenever `reporting` is).
    out["reporting_party"] = _coded(codes["reporting_party"], registry)
    out["type"] = _coded(codes[TABLES[kind]], type_)
    out["metric"] = _coded(codes["metric"], metric)
    out["mitigation"] = _coded(codes["mitigation"], mitigation)
    for name in ("pair", "day", "ftp", "acquiring", "transferring", "reporting"):
        bad |= out[name] < 0
    for name in ("type", "metric", "mitigation"):
        bad |= out[name] == 255  # -1 (not text) wrapped
    q = _quantities(quantity, bad)
    size = (out["last"] - out["first"] + 1).astype(np.float64)
    with np.errstate(invalid="ignore"):
        mismatch = ~np.isnan(q) & ((q != size) | (q >= 1e15))
    out["flags"] = mismatch * MISMATCH + bad * BAD
    return out


# -- the store -------------------------------------------------------------------------

TRIGGERED_COLUMNS = {kind: ", ".join(("id", *fields)) for kind, fields in FIELDS.items()}


def trigger_names() -> list[str]:
    return [f"{STORE}_{name}_{event}" for name in TABLES.values() for event in EVENTS]


EVENTS = ("update", "delete")
# Named by the migrations that drop them (0027): inserts are found by their ids now.
FORMER_EVENTS = ("insert",)


def mark_name(kind: int) -> str:
    """The copy's mark of its table's rows folded (`db.triggers.folded`)."""
    return f"{STORE}:{TABLES[kind]}"


def trigger_statements() -> list[str]:
    """The SQLite triggers that note every updated or deleted row id of `actions` and
    `holdings` (an inserted one is found by its id)."""
    statements = []
    for kind, name in TABLES.items():
        note = f"INSERT INTO {DIRTY} (kind, row_id) VALUES ({kind}, %s.id);"
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {STORE}_{name}_update "
            f"AFTER UPDATE OF {TRIGGERED_COLUMNS[kind]} ON {name} "
            f"BEGIN {note % 'OLD'} {note % 'NEW'} END",
            f"CREATE TRIGGER IF NOT EXISTS {STORE}_{name}_delete AFTER DELETE ON {name} "
            f"BEGIN {note % 'OLD'} END",
        ]
    return statements


def kept(connection: Connection) -> bool:
    """Whether this database keeps the copy (SQLite)."""
    return connection.dialect.name == "sqlite"


def _segments(connection: Connection, kind: int, segments: Iterable[int]) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    wanted = [int(s) for s in segments]
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        marks = ",".join("?" * len(part))
        found.update(
            connection.exec_driver_sql(
                f"SELECT segment, data FROM {STORE} WHERE kind = ? AND segment IN ({marks})",
                (kind, *part),
            ).fetchall()
        )
    return found


@dataclass(frozen=True)
class Written:
    """Rows the index writer wrote to `TABLES[kind]` with one bulk statement: tuples in
    the order of `names`, in the order written. `until`: the last `DIRTY` rowid when the
    write ended (`mark`: a later note of one of its rows means a later statement changed
    it). Inserted rows come with the ids the writer gave them (`ids`); upserted ones
    without, and `after` (`mark` before the write) and `until` bound the rowids their
    update triggers noted them under. `records`: the rows' records (of `RECORD`, row
    ids 0, in the same order) when a reading process made them (`encode_written`)."""

    kind: int
    names: Sequence[str]
    rows: Sequence[Sequence[Any]]
    after: int
    until: int
    ids: Sequence[int] | None = None
    records: Any | None = None


def _driver_rows(connection: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """A read's rows as the driver's own tuples (no SQLAlchemy row per row)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        return list(cursor.execute(sql, params).fetchall())
    finally:
        cursor.close()


def mark(connection: Connection) -> int | None:
    """The last rowid of `DIRTY` (0: none), for `Written`; None where no copy is kept."""
    if not kept(connection):
        return None
    return int(_driver_rows(connection, f"SELECT max(rowid) FROM {DIRTY}")[0][0] or 0)


def _known(kind: int, noted: Any, written: Written) -> Any | None:
    """The records of a writer's rows that are still as it wrote them, or None where
    its rows cannot be matched to their row ids (then they are read back).

    `noted` holds (rowid, row id) of every `DIRTY` entry of the kind, in rowid order.
    Inserted rows come with their ids. Each upserted row noted its id twice in a row
    (updated; an upsert that inserted notes nothing), so the entries of the write, with
    repeats collapsed, are the rows' ids in the order written: unless their number is
    the number of rows, nothing is assumed. A row noted again after the write (a later
    statement changed it) is left to be read."""
    rowids, ids = noted[:, 0], noted[:, 1]
    if written.ids is not None:
        during = np.asarray(written.ids, dtype=np.int64)
    else:
        during = ids[(rowids > written.after) & (rowids <= written.until)]
        if during.shape[0]:
            during = during[np.concatenate(([True], during[1:] != during[:-1]))]
    if during.shape[0] != len(written.rows):
        return None
    if written.records is not None:
        records = written.records.copy()
        records["id"] = during
    else:
        records = encode_written(kind, during, written.names, written.rows)
        if records is None:
            return None
    later = ids[rowids > written.until]
    return records[~np.isin(records["id"], later)] if later.shape[0] else records


def _read(connection: Connection, kind: int, ids: Any, every: bool) -> Any:
    """The current rows of `ids` (`every`: all the kind's noted ids), encoded."""
    if every:
        return encode(
            kind,
            _driver_rows(
                connection,
                f"{_SELECT[kind]} WHERE id IN (SELECT row_id FROM {DIRTY} WHERE kind = {kind})",
            ),
        )
    rows: list[Any] = []
    wanted = ids.tolist()
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        marks = ",".join("?" * len(part))
        rows += _driver_rows(connection, f"{_SELECT[kind]} WHERE id IN ({marks})", part)
    return encode(kind, rows)


def _noted(connection: Connection) -> Any:
    """(rowid, kind, row id) of every `DIRTY` entry, in rowid order. Read as one text
    per column (a tuple per entry cost several times more): the aggregates take the
    rows in one order, whichever it is, so the columns stay aligned."""
    texts = _driver_rows(
        connection,
        f"SELECT group_concat(rowid), group_concat(kind), group_concat(row_id) FROM {DIRTY}",
    )[0]
    if texts[0] is None:
        return np.zeros((0, 3), dtype=np.int64)
    marks = np.stack([np.fromstring(text, dtype=np.int64, sep=",") for text in texts], axis=1)
    return marks[np.argsort(marks[:, 0], kind="stable")]


def _inserted(connection: Connection, kind: int, after: int) -> Any:
    """The ids of the kind's rows past `after` (inserted since the copy last folded)."""
    text = _driver_rows(
        connection, f"SELECT group_concat(id) FROM {TABLES[kind]} WHERE id > ?", (after,)
    )[0][0]
    if text is None:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def fold(connection: Connection, written: Sequence[Written] = ()) -> int:
    """Bring the copy up to date with the rows inserted since it last folded and the
    rows the triggers noted; the number of row ids folded. Runs in the caller's
    transaction. `written`: rows the index writer wrote in it, which it has in hand and
    need not be read back (only those still as written; every other row is read)."""
    if not kept(connection):
        return 0
    marks = _noted(connection)
    folded = 0
    for kind in TABLES:
        of_kind = marks[marks[:, 1] == kind][:, [0, 2]]
        after = triggers.folded(connection, mark_name(kind))
        inserted = _inserted(connection, kind, after)
        ids = np.union1d(of_kind[:, 1], inserted)
        # The mark follows the table's largest id, down too (rows at the top deleted).
        triggers.fold_to(connection, mark_name(kind), TABLES[kind], after)
        if not ids.shape[0]:
            continue
        folded += int(ids.shape[0])
        parts = [
            records
            for write in written
            if write.kind == kind and (records := _known(kind, of_kind, write)) is not None
        ]
        known = np.unique(np.concatenate([p["id"] for p in parts])) if parts else ids[:0]
        rest = np.setdiff1d(ids, known, assume_unique=True)
        if rest.shape[0]:
            every = not inserted.shape[0] and rest.shape[0] == ids.shape[0]  # every note
            parts.append(_read(connection, kind, rest, every=every))
        _rewrite(connection, kind, ids, np.concatenate(parts))
    if marks.shape[0]:
        connection.exec_driver_sql(f"DELETE FROM {DIRTY}")
    return folded


def _last_id(data: bytes) -> int:
    """The row id of a stored segment's last record (the largest: a segment is sorted)."""
    return int(
        np.frombuffer(data, dtype=RECORD, count=1, offset=len(data) - RECORD.itemsize)["id"][0]
    )


def _rewrite(connection: Connection, kind: int, ids: Any, fresh: Any) -> None:
    """Replace the records of `ids` in their segments by `fresh` (those still present)."""
    fresh = fresh[np.argsort(fresh["id"], kind="stable")]
    ids = np.unique(ids)
    ids_segment = ids // SEGMENT
    touched = np.unique(ids_segment)
    stored = _segments(connection, kind, touched.tolist())
    fresh_segment = fresh["id"] // SEGMENT
    writes, deletes = [], []
    for segment in touched.tolist():
        data = stored.get(segment, b"")
        lo, hi = np.searchsorted(fresh_segment, [segment, segment + 1])
        first = ids[np.searchsorted(ids_segment, segment)]  # the segment's first id changed
        if not data or _last_id(data) < first:
            # Every changed id is past the stored ones (rows appended): the stored bytes
            # stay as they are, the fresh records (sorted) follow them.
            merged = data + fresh[lo:hi].tobytes()
        else:
            old = np.frombuffer(data, dtype=RECORD)
            old = old[~np.isin(old["id"], ids)]
            records = np.concatenate([old, fresh[lo:hi]])
            merged = records[np.argsort(records["id"], kind="stable")].tobytes()
        if merged:
            writes.append((kind, segment, merged))
        elif segment in stored:
            deletes.append((kind, segment))
    if writes:
        connection.exec_driver_sql(
            f"INSERT INTO {STORE} (kind, segment, data) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, segment) DO UPDATE SET data = excluded.data",
            writes,
        )
    if deletes:
        connection.exec_driver_sql(f"DELETE FROM {STORE} WHERE kind = ? AND segment = ?", deletes)


def rebuild(connection: Connection) -> None:
    """Build the copy from every current row (the migration; a copy found wrong)."""
    connection.exec_driver_sql(f"DELETE FROM {STORE}")
    connection.exec_driver_sql(f"DELETE FROM {DIRTY}")
    triggers.ensure_marks(connection)
    for kind in TABLES:
        triggers.fold_to(connection, mark_name(kind), TABLES[kind])
        after = -1
        while True:
            rows = connection.exec_driver_sql(
                f"{_SELECT[kind]} WHERE id > ? ORDER BY id LIMIT ?", (after, SEGMENT * 32)
            ).fetchall()
            if not rows:
                break
            records = encode(kind, rows)
            after = int(records["id"][-1])
            _rewrite(connection, kind, records["id"], records)


@dataclass
class Columns:
    """The copy as arrays (row i of each is one record; `holding` tells the table)."""

    holding: Any
    records: Any  # of RECORD

    def __len__(self) -> int:
        return int(self.records.shape[0])


def _stored_records(connection: Connection) -> tuple[Any, int]:
    """Every stored segment in (kind, segment) order as one array of `RECORD`, and how
    many of its bytes are holdings'.

    The array is allocated once at its final size (its length asked first: SQLite
    answers `length()` of a blob from the record header) and each segment copied in
    as it arrives, then dropped: the next segment's bytes reuse its memory. Joining
    the segments instead held them all and copied them again, touching twice the copy's
    size of fresh memory, page by page; one large numpy allocation is backed by huge
    pages where the kernel allows it."""
    total = connection.exec_driver_sql(f"SELECT sum(length(data)) FROM {STORE}").scalar()
    out = np.empty(int(total or 0), dtype=np.uint8)
    at = holding_bytes = 0
    for kind, data in connection.exec_driver_sql(
        f"SELECT kind, data FROM {STORE} ORDER BY kind, segment"
    ):
        end = at + len(data)
        if end > out.shape[0]:  # never within one transaction; grown if it were
            out = np.concatenate([out[:at], np.empty(end - at, dtype=np.uint8)])
        out[at:end] = np.frombuffer(data, dtype=np.uint8)
        at = end
        holding_bytes += len(data) if kind == HOLDING else 0
    return out[:at].view(RECORD), holding_bytes


def load(connection: Connection, approaches: Collection[str] | None = None) -> Columns:
    """Every current action and holding (or those of these cooperative approaches),
    folded up to date first. Raises `Unencodable` when a record could not be encoded."""
    if not triggers.all_present(
        connection, trigger_names()
    ):  # e.g. dropped with their table by a batch migration
        # The rebuild's first write opens the transaction the triggers are then made in
        # (SQLite's driver would commit DDL outside one at once): both or neither stay.
        rebuild(connection)
        for statement in trigger_statements():
            connection.exec_driver_sql(statement)
    fold(connection)
    records, holding_bytes = _stored_records(connection)
    holding = np.zeros(records.shape[0], dtype=bool)  # the actions, then the holdings
    holding[records.shape[0] - holding_bytes // RECORD.itemsize :] = True
    if (records["flags"] & BAD).any():
        raise Unencodable("a record's identifiers, codes or date are not of the schema's form")
    if approaches is not None:
        numbers = np.array(
            sorted({n for n in map(approach_number, approaches) if n is not None}), dtype=np.int64
        )
        keep = np.isin(records["pair"] // REGISTRY_KEYS, numbers)
        holding, records = holding[keep], records[keep]
    return Columns(holding, records)
