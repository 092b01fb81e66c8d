"""The index writer's rows in the driver's own form (SQLite) are stored exactly as the
generic path (row values converted by the column types' bind processors) stores them."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, select

from metareg.db.engine import make_engine
from metareg.db.migrate import upgrade
from metareg.db.tables.index import CURRENT_TABLES, RecordVersion
from metareg.db.upsert import write_rows
from metareg.index import columns
from metareg.index.writer import HISTORY_COLUMNS, IndexWriter, reader_rows
from metareg.records.operations import Incoming, Operation, Withdrawal, pack, unpack
from metareg.registries import ensure_registry

BLOCK = {
    "cooperative_approach_id": "CA0001",
    "party_registry_id": "IDN01",
    "first_transferring_party_id": "IDN",
    "vintage": 2023,
}


def _records() -> list[dict[str, Any]]:
    serial = "19385-100033496-100035120-VCS-VCU-1507-VER-ID-14-1340-01012021-31122021-1"
    return [
        {
            **BLOCK,
            "record_type": "action",
            "action_id": "ISS-1",
            "action_date": "2022-02-13",
            "action_type": "Issuance",
            "first_id": 1,
            "last_id": 1625,
            "quantity_tco2e": 1625,
            "mitigation_type": "Emission reductions",
            "underlying_registry_id": "VCS",
            "first_unit_id": serial,
            "last_unit_id": serial,
            "sectors": ["energy", "waste"],
        },
        {
            **BLOCK,
            "record_type": "action",
            "action_id": "FT-2",
            "action_date": "2022-03-01",
            "action_type": "First transfer",
            "authorization_id": "IDN-CA0001-A1",
            "acquiring_party_id": "JPN",
            "first_id": 1,
            "last_id": 10,
            "quantity_tco2e": 9.5,
            "activity_types": ["cookstoves"],
        },
        {
            **BLOCK,
            "record_type": "holding",
            "as_of": "2026-06-30",
            "account_id": "JPN-HOLD-1",
            "account_type": "holding",
            "first_id": 1,
            "last_id": 10,
        },
    ]


def _ops(records: list[dict[str, Any]]) -> list[Operation]:
    return [Incoming.from_record(r, f"raw {n}", f"line {n}") for n, r in enumerate(records, 1)]


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as connection:
        ensure_registry(connection, "IDN01")
    return engine


def _stored(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    """Every row as the driver reads it back (types as stored), without the row id."""
    with engine.connect() as connection:
        order = "kind, segment" if table == columns.STORE else "uid"
        cursor = connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}")
        names = [d[0] for d in cursor.cursor.description]  # type: ignore[union-attr]
        keep = [n for n, name in enumerate(names) if name != "id"]
        return [tuple(row[n] for n in keep) for row in cursor.fetchall()]


def _generic(engine: Engine, ops: list[Operation], now: Any) -> None:
    """What the writer stores, written the generic way: `_current_row` and history rows
    of Python values, converted by the column types (no `converted` columns)."""
    with engine.begin() as connection:
        writer = IndexWriter(connection, "IDN01", "test", now)
        incoming = [op for op in ops if isinstance(op, Incoming)]
        history = [writer._history_row(op, "new", None) for op in incoming]
        write_rows(connection, RecordVersion.__table__, HISTORY_COLUMNS, history)
        for kind in ("action", "holding"):
            rows = [writer._current_row(kind, op) for op in incoming if op.record_type == kind]
            write_rows(
                connection,
                CURRENT_TABLES[kind],
                writer._columns[kind],
                rows,
                key=("registry_id", "uid"),
            )
        columns.fold(connection)


def test_driver_rows_are_stored_as_the_generic_path_stores_them(tmp_path: Path) -> None:
    ops = _ops(_records())
    written = _engine(tmp_path / "writer.db")
    with written.begin() as connection:
        writer = IndexWriter(connection, "IDN01", "test")
        now = writer.now
        counts = writer.apply(ops)
    assert counts.accepted == 3
    generic = _engine(tmp_path / "generic.db")
    _generic(generic, ops, now)
    for table in ("actions", "holdings", "record_version", "index_columns"):
        assert _stored(written, table) == _stored(generic, table), table
    # Read through the tables' types, the values are the records'.
    with written.connect() as connection:
        actions = CURRENT_TABLES["action"]
        issued = connection.execute(select(actions).where(actions.c.uid == "ISS-1")).one()
        history = connection.execute(select(RecordVersion.__table__)).all()
    assert issued.action_date == date(2022, 2, 13)
    assert issued.sectors == ["energy", "waste"] and issued.activity_types is None
    assert issued.quantity_tco2e == 1625.0 and issued.underlying_prefix is not None
    assert {row.received_at.replace(tzinfo=None) for row in history} == {now.replace(tzinfo=None)}


def test_a_batch_naming_an_identity_twice_stores_the_same_rows(tmp_path: Path) -> None:
    """The general walk (an identity twice, a withdrawal) builds its rows the same way."""
    records = _records()
    corrected = {**records[0], "quantity_tco2e": 1624}
    ops = _ops(records)
    first = _engine(tmp_path / "twice.db")
    with first.begin() as connection:
        IndexWriter(connection, "IDN01", "test").apply(
            [*ops, *_ops([corrected]), Withdrawal("action", "FT-2")]
        )
    once = _engine(tmp_path / "once.db")
    with once.begin() as connection:
        IndexWriter(connection, "IDN01", "test").apply(_ops([corrected, records[2]]))
    for table in ("actions", "holdings", "index_columns"):
        assert _stored(first, table) == _stored(once, table), table


def test_a_date_that_is_no_date_is_refused_as_before(tmp_path: Path) -> None:
    record = {**_records()[2], "as_of": "2026-02-30"}
    engine = _engine(tmp_path / "bad.db")
    with pytest.raises(ValueError), engine.begin() as connection:
        IndexWriter(connection, "IDN01", "test").apply(_ops([record]))


def _crossed(ops: list[Operation]) -> list[Operation]:
    """`ops` as a reading process hands them over: rows made there, packed, pickled."""
    reader_rows("IDN01", ops)
    return unpack(pickle.loads(pickle.dumps(pack(ops))))


def _unset(op: Operation) -> bool:
    """Whether the normal form's slot is still unset (nobody asked for it)."""
    try:
        Incoming.normal.__get__(op, Incoming)  # type: ignore[attr-defined]
    except AttributeError:
        return True
    return False


def test_rows_made_by_a_reading_process_store_what_the_writer_stores(tmp_path: Path) -> None:
    """A reading process makes each block record's row and its columnar record ahead of
    the writer (`reader_rows`); the records cross without their normal form. New rows,
    corrections, a snapshot that supersedes another, an identity named twice with a
    withdrawal, and a record the copy cannot encode land exactly as the writer's own."""
    records = _records()
    odd = {**records[1], "action_id": "FT-3", "acquiring_party_id": "JPÑ"}  # not encodable
    batches = [
        [*records, odd],
        [
            {**records[0], "quantity_tco2e": 1624},  # a correction
            {**records[2], "as_of": "2026-09-30"},  # a newer snapshot
        ],
        [*records[:2], {**records[1], "last_id": 12}],  # FT-2 twice, then withdrawn
    ]
    withdrawals: list[list[Operation]] = [[], [], [Withdrawal("action", "FT-2")]]
    own, crossed = _engine(tmp_path / "own.db"), _engine(tmp_path / "crossed.db")
    now = datetime(2026, 12, 6, tzinfo=UTC)
    for batch, withdrawn in zip(batches, withdrawals, strict=True):
        for engine, shape in ((own, False), (crossed, True)):
            ops = _ops(batch)
            if shape:
                ops = _crossed(ops)
                assert all(type(op) is Incoming and op.row is not None for op in ops)
            with engine.begin() as connection:
                IndexWriter(connection, "IDN01", "test", now).apply([*ops, *withdrawn])
            if shape:  # the writer took the rows: no action's normal form was made again
                assert all(_unset(op) for op in ops if op.record_type == "action")
    for table in ("actions", "holdings", "record_version", "index_columns"):
        assert _stored(crossed, table) == _stored(own, table), table
    # And the copy is the one made afresh from the rows (its odd record flagged BAD).
    kept = _stored(crossed, "index_columns")
    with crossed.begin() as connection:
        columns.rebuild(connection)
    assert _stored(crossed, "index_columns") == kept
    flags = np.frombuffer(b"".join(data for _, _, data in kept), dtype=columns.RECORD)["flags"]
    assert np.count_nonzero(flags & columns.BAD) == 1  # FT-3


def test_a_record_that_crossed_without_its_normal_form_gives_it_back_exactly() -> None:
    ops = _ops(_records())
    (back, *_) = _crossed(ops)
    assert _unset(back)
    assert back.normal == ops[0].normal and back == ops[0]  # made from its payload
    assert not _unset(back)  # and kept
    with pytest.raises(AttributeError):
        back.nothing  # type: ignore[attr-defined]
