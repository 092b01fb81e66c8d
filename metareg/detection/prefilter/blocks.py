"""The full check's screen: which blocks can be part of a finding at all, decided for
every current block at once, so the rules (`passes.sweep.sweep_group`) run only there.

Why: the exact sweep costs a few microseconds of Python per block and per overlapping
pair; at a million blocks (3.5 million records, most of them the ordinary chain of one
block: issuance, first transfer, acquisition, use or holding) that is a minute. The
screen reads each record once as a handful of integers (SQL aggregates parsed by
numpy, no Python object per row) and answers, per *cluster*, whether any block rule
could speak there.

A cluster is a connected run of overlapping blocks of one (cooperative approach,
originating registry): sorted by `first_id`, a new cluster starts where a block
begins after every earlier block has ended. Two blocks that overlap are always in
one cluster and no block of one cluster overlaps a block of another, so sweeping
whole clusters finds exactly the pairs the full sweep would find there.

A cluster is kept for the exact sweep when one of these necessary conditions holds
(each is implied by its rule's predicate, never the other way round, and built from
the record kinds its rule module declares; the sweep decides):

- DC01 / DC05 / DC04: two issuances / two uses or cancellations / two holdings
  overlap (running maximum of `last_id` over that kind alone);
- DC02: its blocks do not all share vintage, first transferring Party and metric, or
  give two different mitigation types;
- DC06: a movement (`dc06.MOVEMENTS`) or a holding in an active account
  (`dc06.ACTIVE_ACCOUNTS`) is dated after a use or cancellation of the cluster;
- DC10 / DC11: a transfer (acquisition) old enough to be a candidate has no
  acquisition (transfer) of exactly its range with the matching Parties;
- DC12: a record whose `quantity_tco2e` differs from its block size (judged in SQL);
- DC17: the originating registry is synced and a moved, used or held record
  (`dc17.JUDGED`) is not wholly covered by the issuances that registry itself reports
  (their runs of serials, touching ones joined);
- anything the screen cannot encode (an action type, metric, mitigation type or
  account type outside the schema's lists, a Party code that is not three ASCII
  characters): kept, so a surprise costs time, never a finding.

The rest are ordinary chains and produce nothing. A block-scope rule with no
condition here (`COVERED`) makes the screen unavailable: the full check then sweeps
every block. `tests/detection/test_prefilter_blocks.py` compares the screened full
check with the exhaustive sweep on random worlds.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from metareg.db.engine import file_mapped
from metareg.db.locks import snapshot_reader
from metareg.db.tables.index import Action, BlockSpan, Holding
from metareg.detection.rules import BLOCK_RULES
from metareg.detection.rules import dc01_double_issuance as dc01
from metareg.detection.rules import dc02_identifier_conflict as dc02
from metareg.detection.rules import dc04_multiple_holders as dc04
from metareg.detection.rules import dc05_double_use as dc05
from metareg.detection.rules import dc06_activity_after_use as dc06
from metareg.detection.rules import dc10_unmatched_transfer as dc10
from metareg.detection.rules import dc11_unmatched_acquisition as dc11
from metareg.detection.rules import dc12_quantity_mismatch as dc12
from metareg.detection.rules import dc17_untraced_block as dc17
from metareg.detection.rules.kinds import CheckContext
from metareg.detection.rules.terms import ACQUISITION, TRANSFERS
from metareg.index import columns

actions = Action
holdings = Holding
spans = BlockSpan

CHUNK_ROWS = 200_000  # rows per aggregate query: bounds the text held, balances readers
READERS = 2  # parallel reader connections (the aggregates run in the database)

COVERED = (
    dc01.RULE,
    dc02.RULE,
    dc04.RULE,
    dc05.RULE,
    dc06.RULE,
    dc10.RULE,
    dc11.RULE,
    dc12.RULE,
    dc17.RULE,
)
UNSCREENED = sorted(set(BLOCK_RULES) - {rule.code for rule in COVERED})

# Kinds of record, as the rules declare them: issuances (DC01), transfers and
# acquisitions (DC10/DC11, DC04's transfers out), uses (DC05, DC06), holdings in an
# active account (DC06) or another.
ISSUANCE, TRANSFER, ACQUISITION_KIND, USE, OTHER_ACTION = 0, 1, 2, 3, 4
HOLDING_ACTIVE, HOLDING_OTHER = 6, 7
_KINDS_OF = (
    (dc01.ISSUANCES | {dc17.ISSUANCE}, ISSUANCE),
    (TRANSFERS, TRANSFER),
    ({ACQUISITION}, ACQUISITION_KIND),
    (dc05.USES, USE),
)
_ACTION_KINDS = {action_type: kind for types, kind in _KINDS_OF for action_type in types}
# An action type two kinds claim would be screened as one of them only.
AMBIGUOUS = sum(len(types) for types, _ in _KINDS_OF) != len(_ACTION_KINDS)
# DC06's movements, as screen kinds (one it has no kind for: kept as unreadable).
MOVED = sorted({_ACTION_KINDS.get(action_type, OTHER_ACTION) for action_type in dc06.MOVEMENTS})
# DC17's judged records, as screen kinds (holdings of any account).
UNTRACED = sorted(
    {_ACTION_KINDS.get(t, OTHER_ACTION) for t in dc17.JUDGED if t is not None}
    | ({HOLDING_ACTIVE, HOLDING_OTHER} if None in dc17.JUDGED else set())
)
_OTHER_ACCOUNTS = ("cancellation", "retirement")  # the schema's other account types
_ACCOUNT_KINDS = {account: HOLDING_ACTIVE for account in dc06.ACTIVE_ACCOUNTS} | {
    account: HOLDING_OTHER for account in _OTHER_ACCOUNTS
}
_METRICS = columns.METRICS
_MITIGATION_TYPES = columns.MITIGATION_TYPES


# The columnar copy's type codes (SQLite, `metareg.index.columns`) as screen kinds.
def _kind_of_code(names: tuple[str, ...], kinds: dict[str, int]) -> Any:
    table = np.full(256, OTHER_ACTION, dtype=np.int64)  # code 0 and unused codes: other
    table[1 : len(names) + 1] = [kinds.get(name, OTHER_ACTION) for name in names]
    return table


_KIND_OF_ACTION_CODE = _kind_of_code(columns.ACTION_TYPES, _ACTION_KINDS)
_KIND_OF_ACCOUNT_CODE = _kind_of_code(columns.ACCOUNT_TYPES, _ACCOUNT_KINDS)
_DC12_METRIC = columns.METRICS.get(dc12.METRIC, -1)

# The packed column: bit 0 DC12 mismatch, bits 2-4 kind, 5-6 metric (0: not in the
# schema's list), 7-9 mitigation type (0: not given, 4: not in the list), 10 and up the
# vintage (signed).
UNKNOWN_MITIGATION = columns.UNKNOWN_MITIGATION
# Fixed-width text columns, each aggregated without separators: the first
# transferring Party, the reporting
# registry (^[A-Z]{3}[0-9]{2}$, its Party the first three characters), the acquiring
# and the transferring Party. Each is its own aggregate of the bare column: string
# functions (substr, ||) allocate per row, and SQLite's allocator lock then keeps two
# readers from running in parallel.
PARTY_WIDTH = 3
REGISTRY_WIDTH = 5
NO_PARTY = "---"  # never a Party code (^[A-Z]{3}$)
FIXED_WIDTHS = (PARTY_WIDTH, REGISTRY_WIDTH, PARTY_WIDTH, PARTY_WIDTH)
APPROACH_WIDTH = 6  # ^CA[0-9]{4}$


class ScreenUnavailable(Exception):
    """The index holds something the screen cannot encode; sweep everything instead."""


class _DayNumber(FunctionElement[int]):
    """A DATE column as its day number, days since 2000-01-01 (`DAY_ZERO`): integer
    arithmetic in the server where `to_char` formatted text (a fifth of the aggregate
    query's time on PostgreSQL, measured)."""

    type = BigInteger()
    inherit_cache = True


@compiles(_DayNumber, "sqlite")
def _day_number_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    # Stored as YYYY-MM-DD text; julianday() is NULL for anything else, and a NULL is
    # left out of the aggregate, which then does not list every row (unavailable).
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2451544.5 AS INTEGER)"


@compiles(_DayNumber)
def _day_number_default(element: Any, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '2000-01-01')"


DAY_ZERO = np.datetime64("2000-01-01", "D")


def _day_keys(days: Any) -> Any:
    """Day numbers (`_DayNumber`) as YYYYMMDD integers (`date_key`)."""
    day = DAY_ZERO + days.astype("m8[D]")
    month = day.astype("M8[M]")
    year = month.astype("M8[Y]")
    keys = (year.astype(np.int64) + 1970) * 10_000
    keys += (month.astype(np.int64) % 12 + 1) * 100
    keys += (day - month).astype(np.int64) + 1
    return keys.astype(np.int32)


def date_key(value: date) -> int:
    """The screen's integer for a date (YYYYMMDD: ordered like the dates)."""
    return value.year * 10_000 + value.month * 100 + value.day


def _code(column: Any, codes: dict[str, int], *, null: int | None, other: int) -> Any:
    """`CASE column WHEN text THEN code ...`: the simple form, one read of the column."""
    otherwise = other if null is None else case((column.is_(None), null), else_=other)
    return case(codes, value=column, else_=otherwise)


def _packed(table: Any, kind: Any) -> Any:
    """The packed integer of one record (see the bit layout above)."""
    t = table.c
    metric = _code(t.metric, _METRICS, null=None, other=0)
    mitigation = _code(t.mitigation_type, _MITIGATION_TYPES, null=0, other=UNKNOWN_MITIGATION)
    # DC12 in SQL, conservatively: a mismatch, or a size where comparing a float with
    # an integer could round.
    mismatch = case(
        (
            and_(
                t.metric == dc12.METRIC,
                t.quantity_tco2e.is_not(None),
                or_(t.quantity_tco2e != t.last_id - t.first_id + 1, t.quantity_tco2e >= 1e15),
            ),
            1,
        ),
        else_=0,
    )
    return cast(
        mismatch + kind * 4 + metric * 32 + mitigation * 128 + cast(t.vintage, BigInteger) * 1024,
        BigInteger,
    )


def _party(column: Any) -> Any:
    return func.coalesce(column, NO_PARTY)


def _fixed_texts(table: Any, acquiring: Any, transferring: Any) -> list[Any]:
    """The fixed-width aggregates of FIXED_WIDTHS (anything not of its width makes the
    screen unavailable)."""
    t = table.c
    columns: list[Any] = [t.first_transferring_party_id, t.registry_id]
    columns += [_party(acquiring), _party(transferring)]
    return [func.aggregate_strings(column, "") for column in columns]


class _AsText(FunctionElement[str]):
    """An integer as text for a string aggregate: SQLite's `group_concat` writes an
    integer as CAST would, without the extra step per row; PostgreSQL's
    `string_agg` takes text only."""

    type = String()
    inherit_cache = True


@compiles(_AsText, "sqlite")
def _as_text_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_AsText)
def _as_text_default(element: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS VARCHAR)"


def _aggregate(value: Any) -> Any:
    return func.aggregate_strings(_AsText(value), ",")


def _checksum(table: Any) -> Any:
    """A cheap fingerprint of which `first_id` came with which id: the aggregates of
    one query must list the rows in the same order, and this proves they did."""
    t = table.c
    return func.sum((t.id % 9973) * (t.first_id % 9973))


def _statement(table: Any, kind: Any, day: Any, acquiring: Any, transferring: Any) -> Any:
    t = table.c
    return select(
        _aggregate(t.id),
        func.aggregate_strings(t.cooperative_approach_id, ""),
        func.aggregate_strings(t.party_registry_id, ""),
        _aggregate(t.first_id),
        _aggregate(t.last_id),
        _aggregate(_packed(table, kind)),
        _aggregate(_DayNumber(day)),
        *_fixed_texts(table, acquiring, transferring),
        _checksum(table),
    ).where(t.id > bindparam("low"), t.id <= bindparam("high"))


_ACTION_SCREEN = _statement(
    actions,
    _code(actions.c.action_type, _ACTION_KINDS, null=None, other=OTHER_ACTION),
    actions.c.action_date,
    actions.c.acquiring_party_id,
    actions.c.transferring_party_id,
)
_HOLDING_SCREEN = _statement(
    holdings,
    _code(holdings.c.account_type, _ACCOUNT_KINDS, null=None, other=OTHER_ACTION),
    holdings.c.as_of,
    literal(None, String),
    literal(None, String),
)


@dataclass
class Records:
    """Current records as columns (row i of every array is one record)."""

    ids: Any  # the row id in its table
    holding: Any  # True for a holding, False for an action
    pair: Any  # (cooperative approach, originating registry): `pair_keys`, then dense
    first: Any
    last: Any
    day: Any  # the record's date as YYYYMMDD
    packed: Any  # see the bit layout above
    parties: Any  # (n, 4): first transferring, reporting, acquiring, transferring Party
    reporting: Any  # the reporting registry (`registry_key`)
    originating: Any  # the originating registry (`registry_key`)

    @classmethod
    def concat(cls, parts: list[Records]) -> Records:
        names = [column.name for column in fields(cls)]
        if not parts:
            ints = np.zeros(0, dtype=np.int64)
            none = np.zeros((0, 4), np.int32)
            return cls(ints, ints.astype(bool), ints, ints, ints, ints, ints, none, ints, ints)
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in names))

    def __len__(self) -> int:
        return int(self.ids.shape[0])


# One encoding of Parties, registries and pairs for both reads: the columnar copy's.
party_code = columns.party_code
registry_key = columns.registry_key
_pair_key = columns.pair_key
NO_PARTY_CODE = columns.NO_PARTY_CODE


def _numbers(text: str | None, count: int) -> Any:
    values = np.fromstring(text or "", dtype=np.int64, sep=",") if count else np.zeros(0, np.int64)
    if values.shape[0] != count:
        raise ScreenUnavailable("an aggregate did not list every row")
    return values


def _weighted(numbers: Any, base: int) -> Any:
    """Columns of small numbers (count, width) as one integer per row, in `base`, the
    first column the most significant (column by column: numpy has no fast integer
    matrix product)."""
    total = np.zeros(numbers.shape[0], dtype=np.int64)
    for column in range(numbers.shape[1]):
        total *= base
        total += numbers[:, column]
    return total


def _fixed(text: str | None, count: int, width: int) -> Any:
    """A fixed-width text aggregate as a (count, width) array of bytes."""
    try:
        raw = (text or "").encode("ascii")
    except UnicodeEncodeError as error:
        raise ScreenUnavailable("a date, Party or registry code is not ASCII") from error
    if len(raw) != count * width:
        raise ScreenUnavailable("a date, Party or registry code is not of its fixed width")
    return np.frombuffer(raw, dtype=np.uint8).reshape(count, width)


def _codes(letters: Any) -> Any:
    """Three-letter codes (count, 3) as integers, as `party_code` spells them."""
    letters = letters.astype(np.int32)
    return (letters[:, 0] << 16) | (letters[:, 1] << 8) | letters[:, 2]


def _digits(text: Any) -> Any:
    """Columns of ASCII digits as one integer per row (unavailable if not digits)."""
    numbers = text - np.uint8(ord("0"))  # anything else wraps above 9
    if not (numbers <= 9).all():
        raise ScreenUnavailable("an identifier is not of the schema's form")
    return _weighted(numbers, 10)


def _letters(text: Any) -> Any:
    """Columns of capital letters as one base-26 integer per row."""
    numbers = text - np.uint8(ord("A"))  # anything else wraps above 25
    if not (numbers <= 25).all():
        raise ScreenUnavailable("an identifier is not of the schema's form")
    return _weighted(numbers, 26)


REGISTRY_KEYS = 26**3 * 100


def registry_keys(registries: Any) -> Any:
    """Registry ids ^[A-Z]{3}[0-9]{2}$ (count, 5) as integers below REGISTRY_KEYS."""
    return _letters(registries[:, :3]) * 100 + _digits(registries[:, 3:])


def pair_keys(approaches: Any, registries: Any) -> Any:
    """(cooperative approach ^CA[0-9]{4}$, registry ^[A-Z]{3}[0-9]{2}$) as one integer."""
    if (
        approaches.shape[0]
        and not ((approaches[:, 0] == ord("C")) & (approaches[:, 1] == ord("A"))).all()
    ):
        raise ScreenUnavailable("a cooperative approach id is not of the schema's form")
    return _digits(approaches[:, 2:]) * REGISTRY_KEYS + registry_keys(registries)


def _parse(row: Any, holding: bool) -> Records | None:
    ids, approaches, originating, first, last, packed, days, *texts, checksum = row
    if not ids:
        return None
    row_ids = np.fromstring(ids, dtype=np.int64, sep=",")
    count = row_ids.shape[0]
    ftp, registry, acquiring, transferring = (
        _fixed(text, count, width) for text, width in zip(texts, FIXED_WIDTHS, strict=True)
    )
    parties = (ftp, registry[:, :PARTY_WIDTH], acquiring, transferring)
    pair = pair_keys(
        _fixed(approaches, count, APPROACH_WIDTH), _fixed(originating, count, REGISTRY_WIDTH)
    )
    records = Records(
        ids=row_ids,
        holding=np.full(count, holding),
        pair=pair,
        first=_numbers(first, count),
        last=_numbers(last, count),
        day=_day_keys(_numbers(days, count)),
        packed=_numbers(packed, count),
        parties=np.stack([_codes(p) for p in parties], axis=1),
        reporting=registry_keys(registry),
        originating=pair % REGISTRY_KEYS,
    )
    expected = int(np.sum((records.ids % 9973) * (records.first % 9973)))
    if expected != int(checksum or 0):
        raise ScreenUnavailable("the aggregates disagree on the order of rows")
    return records


def _ranges(connection: Connection, table: Any) -> list[dict[str, int]]:
    """Id ranges of about CHUNK_ROWS rows covering the table."""
    # Two statements: each is one index seek, together SQLite would scan the table.
    low = connection.execute(select(func.min(table.c.id))).scalar()
    high = connection.execute(select(func.max(table.c.id))).scalar()
    if low is None or high is None:
        return []
    top = int(high)
    return [
        {"low": start, "high": min(start + CHUNK_ROWS, top)}
        for start in range(int(low) - 1, top, CHUNK_ROWS)
    ]


def parallel(connection: Connection) -> bool:
    """Other connections see what this one sees (the check holds the write lock) unless
    the database is private to this connection (SQLite in memory)."""
    url = connection.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def read(connection: Connection, approaches: Collection[str] | None = None) -> Records:
    """Every current action and holding as columns (or only those of these cooperative
    approaches: a partition of a partitioned check), read in id ranges by up to
    `READERS` connections at once (each aggregate runs inside the database, so the
    readers work in parallel)."""
    if UNSCREENED:
        raise ScreenUnavailable(f"no screen for {', '.join(UNSCREENED)}")
    if AMBIGUOUS:
        raise ScreenUnavailable("an action type is of two screen kinds")
    if columns.kept(connection):
        try:
            stored = columns.load(connection, approaches)
        except columns.Unencodable as why:
            raise ScreenUnavailable(str(why)) from why
        records = _from_columns(stored)
        records.pair = _dense_pairs(connection, records.pair)
        return records
    action_screen, holding_screen = _ACTION_SCREEN, _HOLDING_SCREEN
    if approaches is not None:
        action_screen = action_screen.where(actions.c.cooperative_approach_id.in_(approaches))
        holding_screen = holding_screen.where(holdings.c.cooperative_approach_id.in_(approaches))
    jobs = [(action_screen, r, False) for r in _ranges(connection, actions)]
    jobs += [(holding_screen, r, True) for r in _ranges(connection, holdings)]
    if connection.dialect.name == "postgresql":
        # One order for every aggregate of a query: no parallel partial aggregates.
        connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")

    def run_on(conn: Connection, job: tuple[Any, dict[str, int], bool]) -> Records | None:
        statement, params, holding = job
        return _parse(conn.execute(statement, params).one(), holding)

    if parallel(connection) and len(jobs) > 1:

        def run(job: tuple[Any, dict[str, int], bool]) -> Records | None:
            with snapshot_reader(connection) as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
                    return run_on(conn, job)
                with file_mapped(conn):
                    return run_on(conn, job)

        with ThreadPoolExecutor(max_workers=READERS) as pool:
            parts = list(pool.map(run, jobs))
    else:
        parts = [run_on(connection, job) for job in jobs]
    records = Records.concat([part for part in parts if part is not None])
    records.pair = _dense_pairs(connection, records.pair)
    return records


# Records of the copy converted at a time: their rows stay in the cache while each
# column is taken from them (the copy is one array of structures; one whole-array pass
# per column read the full copy from memory a dozen times).
CONVERT_RECORDS = 16_384


def _from_columns(stored: columns.Columns) -> Records:
    """The columnar copy's rule-neutral records as the screen's (kinds, packed column)."""
    r, holding = stored.records, stored.holding
    n = int(r.shape[0])
    out = Records(
        ids=np.empty(n, np.int64),
        holding=holding,
        pair=np.empty(n, np.int64),
        first=np.empty(n, np.int64),
        last=np.empty(n, np.int64),
        day=np.empty(n, np.int32),
        packed=np.empty(n, np.int64),
        parties=np.empty((n, 4), np.int32),
        reporting=np.empty(n, np.int64),
        originating=np.empty(n, np.int64),
    )
    for start in range(0, n, CONVERT_RECORDS):
        part = slice(start, start + CONVERT_RECORDS)
        c = r[part]
        codes = c["type"].astype(np.intp)
        kind = np.where(holding[part], _KIND_OF_ACCOUNT_CODE[codes], _KIND_OF_ACTION_CODE[codes])
        metric = c["metric"].astype(np.int64)
        mismatch = ((c["flags"] & columns.MISMATCH) != 0) & (metric == _DC12_METRIC)
        out.packed[part] = (
            mismatch.astype(np.int64)
            | (kind.astype(np.int64) << 2)
            | (metric << 5)
            | (c["mitigation"].astype(np.int64) << 7)
            | (c["vintage"] << 10)
        )
        for column, name in enumerate(("ftp", "reporting_party", "acquiring", "transferring")):
            out.parties[part, column] = c[name]
        out.ids[part], out.pair[part] = c["id"], c["pair"]
        out.first[part], out.last[part] = c["first"], c["last"]
        out.day[part], out.reporting[part] = c["day"], c["reporting"]
        out.originating[part] = out.pair[part] % REGISTRY_KEYS
    return out


def _dense_pairs(connection: Connection, keys: Any) -> Any:
    """Pair keys as 0, 1, 2 ... in the order of the pairs the index has ever held
    (`block_span`): small integers sort with `first_id` in one key."""
    known = sorted(
        key
        for key in (_pair_key(ca, reg) for ca, reg in connection.execute(_SPANS))
        if key is not None
    )
    table = np.array(known, dtype=np.int64)
    if not table.shape[0]:
        if keys.shape[0]:
            raise ScreenUnavailable("blocks of a pair the index never recorded")
        return keys
    dense = np.minimum(np.searchsorted(table, keys), table.shape[0] - 1)
    if not (table[dense] == keys).all():
        raise ScreenUnavailable("blocks of a pair the index never recorded")
    return dense.astype(np.int32)


_SPANS = select(spans.c.cooperative_approach_id, spans.c.party_registry_id)


# -- the screen --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    cutoff_day: int
    synced: Any  # sorted Party codes
    synced_registries: frozenset[int] | None = None  # registry keys (`registry_key`)


def _kinds_table(kinds: Any) -> Any:
    """A lookup table: `table[kind]` is whether a screen kind is one of `kinds`."""
    table = np.zeros(8, dtype=bool)
    table[list(kinds)] = True
    return table


# Screen kinds as lookup tables (one gather per record, where np.isin would sort).
_MOVED_OR_ACTIVE = _kinds_table([*MOVED, HOLDING_ACTIVE])
_UNTRACED = _kinds_table(UNTRACED)
# The packed column without its DC12 bit, kind and mitigation type: vintage and metric.
_VINTAGE_AND_METRIC = ~((1 << 5) - 1) & ~(7 << 7)


def _member(values: Any, members: Any) -> Any:
    """`np.isin(values, members)` for a small sorted `members`, by binary search."""
    if members.shape[0] == 0:
        return np.zeros(values.shape[0], dtype=bool)
    at = np.minimum(np.searchsorted(members, values), members.shape[0] - 1)
    return members[at] == values


def _flag_differing(flags: Any, cluster: Any, values: Any, rows: Any = None) -> None:
    """Flag the clusters where two of `rows` (all records when None; in first_id order)
    have different values: then two consecutive ones of the cluster differ."""
    if rows is not None:
        values, cluster = values[rows], cluster[rows]
    if values.shape[0] < 2:
        return
    differ = (values[1:] != values[:-1]) & (cluster[1:] == cluster[:-1])
    flags[cluster[1:][differ]] = True


def _flag_overlaps(flags: Any, cluster: Any, first: Any, last: Any, rows: Any) -> None:
    """Flag the clusters where two of `rows` (indices in first_id order) overlap."""
    if rows.shape[0] < 2:
        return
    reach = np.maximum.accumulate(last[rows])
    hit = first[rows][1:] <= reach[:-1]
    flags[cluster[rows[1:][hit]]] = True


def _flag_activity_after_use(
    flags: Any, cluster: Any, first: Any, last: Any, day: Any, kind: Any
) -> None:
    """DC06: flag the clusters where a movement or a holding in an active account
    overlaps a use dated before it.

    In a cluster the DC05 screen lets pass, the uses are pairwise disjoint, so the
    uses a block overlaps are a run of consecutive uses (in `first_id` order) ending
    at the last use that starts before the block ends: compare with that one, and
    keep the cluster outright when the block reaches a second use.
    """
    uses = np.flatnonzero(kind == USE)
    others = np.flatnonzero(_MOVED_OR_ACTIVE[kind])
    if uses.shape[0] == 0 or others.shape[0] == 0:
        return
    use_first, use_last, use_day = first[uses], last[uses], day[uses]
    at = np.searchsorted(use_first, last[others], side="right") - 1
    has = at >= 0
    others, at = others[has], at[has]
    meets = use_last[at] >= first[others]
    others, at = others[meets], at[meets]
    later = day[others] > use_day[at]
    second = np.zeros(at.shape[0], dtype=bool)
    earlier = at >= 1
    second[earlier] = use_last[at[earlier] - 1] >= first[others[earlier]]
    flags[cluster[others[later | second]]] = True


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def _unmatched(first: Any, last: Any, code: Any, candidates: Any, partners: Any) -> Any:
    """The candidates without a partner of exactly their (first, last, code).

    Keys are hashed into one integer to search them sorted; a candidate counts as
    matched only when the partner found under its hash really has its key, so a hash
    collision can only keep a candidate, never lose one."""
    if candidates.shape[0] == 0 or partners.shape[0] == 0:
        return candidates

    def hashed(rows: Any) -> Any:
        with np.errstate(over="ignore"):
            return (
                first[rows].astype(np.uint64) * _MIX[0]
                + last[rows].astype(np.uint64) * _MIX[1]
                + code[rows].astype(np.uint64) * _MIX[2]
            )

    partner_keys = hashed(partners)
    order = np.argsort(partner_keys)
    partner_keys, partners = partner_keys[order], partners[order]
    wanted = hashed(candidates)
    at = np.minimum(np.searchsorted(partner_keys, wanted), partners.shape[0] - 1)
    found = partners[at]
    matched = (
        (partner_keys[at] == wanted)
        & (first[found] == first[candidates])
        & (last[found] == last[candidates])
        & (code[found] == code[candidates])
    )
    return candidates[~matched]


def _flag_untraced(
    flags: Any, cluster: Any, first: Any, last: Any, kind: Any, traced_by: Any
) -> None:
    """DC17: flag the clusters where a judged record is not wholly covered by the runs
    of serials of the issuances `traced_by` (the originating registry's own, in
    first_id order; touching ones joined into one run)."""
    judged = np.flatnonzero(_UNTRACED[kind])
    if judged.shape[0] == 0:
        return
    issued = np.flatnonzero(traced_by)
    if issued.shape[0] == 0:
        flags[cluster[judged]] = True
        return
    issued_first, reach = first[issued], np.maximum.accumulate(last[issued])
    starts = np.ones(issued.shape[0], dtype=bool)
    starts[1:] = issued_first[1:] > reach[:-1] + 1
    heads = np.flatnonzero(starts)
    run_first = issued_first[heads]
    run_last = reach[np.concatenate([heads[1:] - 1, [issued.shape[0] - 1]])]
    at = np.searchsorted(run_first, first[judged], side="right") - 1
    covered = np.zeros(judged.shape[0], dtype=bool)
    inside = at >= 0
    covered[inside] = run_last[at[inside]] >= last[judged][inside]
    flags[cluster[judged[~covered]]] = True


def _screen_pair(
    first: Any,
    last: Any,
    day: Any,
    packed: Any,
    parties: Any,
    context: _Context,
    reporting_registry: Any = None,
    originating: int | None = None,
) -> Any:
    """Which records (in first_id order) of one pair lie in a cluster to sweep."""
    n = first.shape[0]
    reach = np.maximum.accumulate(last)
    starts = np.ones(n, dtype=bool)
    starts[1:] = first[1:] > reach[:-1]
    cluster = np.cumsum(starts) - 1
    flags = np.zeros(int(cluster[-1]) + 1 if n else 0, dtype=bool)

    kind = (packed >> 2) & 7
    metric = (packed >> 5) & 3
    mitigation = (packed >> 7) & 7
    ftp = parties[:, 0]

    # DC12, or something the screen cannot read.
    unreadable = (kind == OTHER_ACTION) | (metric == 0) | (mitigation == UNKNOWN_MITIGATION)
    flags[cluster[((packed & 1) == 1) | unreadable]] = True
    for rows in (
        np.flatnonzero(kind == ISSUANCE),  # DC01
        np.flatnonzero(kind == USE),  # DC05
        np.flatnonzero(kind >= HOLDING_ACTIVE),  # DC04
    ):
        _flag_overlaps(flags, cluster, first, last, rows)

    # DC02: not all of one vintage, metric and first transferring Party, or two
    # different mitigation types given.
    _flag_differing(flags, cluster, packed & _VINTAGE_AND_METRIC)
    _flag_differing(flags, cluster, ftp)
    _flag_differing(flags, cluster, mitigation, np.flatnonzero(mitigation > 0))

    _flag_activity_after_use(flags, cluster, first, last, day, kind)

    # DC10 / DC11: a candidate is certainly matched by a partner of exactly its range
    # whose Parties agree (transfer: acquiring + reporting; acquisition: reporting +
    # transferring).
    transfers = kind == TRANSFER
    acquisitions = kind == ACQUISITION_KIND
    old = day < context.cutoff_day
    sent = np.flatnonzero(transfers & old)
    received = np.flatnonzero(acquisitions & old)
    if sent.shape[0] or received.shape[0]:
        reporting, acquiring, transferring = (parties[:, i].astype(np.int64) for i in (1, 2, 3))
        code = np.where(transfers, (acquiring << 24) | reporting, (reporting << 24) | transferring)
        for candidates, partners in (
            (sent[_member(acquiring[sent], context.synced)], np.flatnonzero(acquisitions)),
            (received[_member(transferring[received], context.synced)], np.flatnonzero(transfers)),
        ):
            flags[cluster[_unmatched(first, last, code, candidates, partners)]] = True

    if (
        originating is not None
        and context.synced_registries is not None
        and originating in context.synced_registries
    ):
        own_issuances = (kind == ISSUANCE) & (reporting_registry == originating)
        _flag_untraced(flags, cluster, first, last, kind, own_issuances)
    return flags[cluster]


def _pair_then_first(records: Records) -> tuple[Any, list[int]]:
    """The order by (pair, first_id), stable, and where each pair's run of it starts
    (then the end).

    Pair codes are small (`_dense_pairs`: one per cooperative approach and originating
    registry the index holds): the records are bucketed by pair, then each pair's run
    is sorted by `first_id`. Records come interleaved between pairs (a registry reports
    the blocks of several approaches as they happen), so one sort of (pair, first_id)
    keys would meet short runs and pay n log n over every record; within a pair
    `first_id` mostly ascends."""
    pair, first = records.pair, records.first
    # numpy sorts 16-bit integers stably by radix: linear in the records.
    small = pair.shape[0] and pair.max() < (1 << 15)
    by_pair = np.argsort(pair.astype(np.int16) if small else pair, kind="stable")
    counts = np.bincount(pair)
    bounds = np.concatenate([[0], np.cumsum(counts)])[np.concatenate([[True], counts > 0])]
    for start, end in itertools.pairwise(bounds.tolist()):
        rows = by_pair[start:end]
        by_pair[start:end] = rows[np.argsort(first[rows], kind="stable")]
    return by_pair, bounds.tolist()


def suspects(records: Records, context: CheckContext) -> Iterator[tuple[int, list[int], list[int]]]:
    """(pair code, action ids, holding ids) of the records to sweep, pair by pair.

    Each pair's columns are gathered by its own run of the order, not every column of
    every record at once: at ten million blocks a gather of all the records is a few
    hundred megabytes per column, memory the kernel must find afresh for each (the
    allocator maps arrays that large on their own and unmaps them when freed), where a
    pair's columns fit in memory the allocator reuses from one pair to the next."""
    synced = sorted(
        code
        for code in (party_code(p) for p in context.synced_parties)
        if code is not None and code != NO_PARTY_CODE
    )
    synced_registries = frozenset(
        key for key in (registry_key(r) for r in context.synced_registries) if key is not None
    )
    screen_context = _Context(
        date_key(context.cutoff), np.array(synced, dtype=np.int64), synced_registries
    )
    if not len(records):
        return
    order, bounds = _pair_then_first(records)
    for start, end in itertools.pairwise(bounds):
        rows = order[start:end]
        first, last = records.first[rows], records.last[rows]
        originating = int(records.originating[rows[0]])
        kept = []
        for part in _pieces(first, last):
            piece = rows[part]
            keep = _screen_pair(
                first[part],
                last[part],
                records.day[piece],
                records.packed[piece],
                records.parties[piece],
                screen_context,
                records.reporting[piece],
                originating,
            )
            if keep.any():
                kept.append(piece[keep])
        if not kept:
            continue
        chosen = np.concatenate(kept)
        holding = records.holding[chosen]
        ids = records.ids[chosen]
        yield int(records.pair[rows[0]]), ids[~holding].tolist(), ids[holding].tolist()


# Records screened at once (whole clusters): bounds the size of the screen's searches
# and sorts (4,096 and 65,536 measured no better).
PIECE = 16_384


def _pieces(first: Any, last: Any) -> list[slice]:
    """One pair's records (in first_id order) cut into runs of whole clusters of about
    `PIECE` records (a larger cluster is one run). Every condition of the screen lies
    within one cluster, so each run is screened on its own: the screen's searches and
    its sort of hashes then work on pieces of a bounded size."""
    n = first.shape[0]
    if n <= PIECE:
        return [slice(0, n)]
    heads = np.flatnonzero(first[1:] > np.maximum.accumulate(last)[:-1]) + 1
    if not heads.shape[0]:
        return [slice(0, n)]
    wanted = np.arange(PIECE, n, PIECE)
    cuts = np.unique(heads[np.maximum(np.searchsorted(heads, wanted, side="right") - 1, 0)])
    edges = [0, *(int(c) for c in cuts if c > 0), n]
    return [slice(a, b) for a, b in itertools.pairwise(edges) if b > a]
