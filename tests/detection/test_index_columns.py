"""The columnar copy the full check screens (`metareg.index.columns`, SQLite) follows
every write: after an ingest, a correction, a withdrawal, a holdings snapshot that
supersedes another, a write that bypasses the index writer and a transaction that
rolls back, the screened full check finds exactly what the exhaustive sweep finds, and
the copy equals one built afresh from the rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy
from alembic import command
from sqlalchemy import Engine, text

from metareg.db import migrate
from metareg.db.tables.index import Action
from metareg.detection.prefilter import blocks as screen
from metareg.index import columns, first_transferred
from metareg.index.writer import IndexWriter, fold_copies
from metareg.records.operations import Incoming, Operation, Withdrawal
from tests.detection.conftest import Index
from tests.detection.test_prefilter_blocks import _both
from tests.helpers import action, holding, insert_action_copy, withdrawal

AS_OF = date(2025, 6, 30)


def _rules(lines: list[str]) -> set[str]:
    return {line.split("rule='")[1][:4] for line in lines}


def _screened_rules(engine: Engine) -> set[str]:
    """The rules the screened full check finds (asserting the exhaustive sweep agrees),
    and, where the copy is kept, that it equals a copy built afresh."""
    screened, exhaustive = _both(engine, AS_OF, 30)
    assert screened == exhaustive
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            kept = columns.load(connection)
            columns.rebuild(connection)
            fresh = columns.load(connection)
            connection.rollback()
        assert np.array_equal(np.sort(kept.records), np.sort(fresh.records))
    return _rules(screened)


def _noted(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {columns.DIRTY}")).scalar())


def test_the_screen_follows_corrections_withdrawals_and_snapshots(
    engine: Engine, tmp_path: Path
) -> None:
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-1", 1, 100), action("ISS-2", 101, 200))
    index.put("JPN01", holding("J", 1, 50, as_of="2024-06-30"))
    assert "DC01" not in _screened_rules(engine)
    if engine.dialect.name == "sqlite":
        assert _noted(engine) == 0  # the writer folded its own writes

    index.put("IDN01", action("ISS-2", 90, 200))  # a correction: now it overlaps ISS-1
    assert "DC01" in _screened_rules(engine)

    index.put("IDN01", withdrawal({"record_type": "action", "action_id": "ISS-2"}))
    assert "DC01" not in _screened_rules(engine)

    # Two holdings of one range: DC04; a newer snapshot of JPN01 supersedes its holding.
    index.put("KOR01", holding("K", 1, 50, as_of="2024-06-30"))
    assert "DC04" in _screened_rules(engine)
    index.put("JPN01", holding("J2", 300, 320, as_of="2024-12-31"))
    assert "DC04" not in _screened_rules(engine)


def _insert_copy(connection: Any, uid: str, first: int, last: int) -> None:
    """An issuance written with plain SQL (not through the writer): a copy of ISS-1
    under another identity and range."""
    insert_action_copy(connection, "ISS-1", uid, first, last)


def test_the_screen_follows_writes_that_bypass_the_writer(engine: Engine, tmp_path: Path) -> None:
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-1", 1, 100), action("ISS-2", 201, 300))
    assert "DC01" not in _screened_rules(engine)

    with engine.begin() as connection:
        _insert_copy(connection, "SQL-1", 50, 60)
    assert "DC01" in _screened_rules(engine)  # the check folded what the triggers noted

    with engine.begin() as connection:
        connection.execute(text("DELETE FROM actions WHERE action_id = 'SQL-1'"))
        connection.execute(text("UPDATE actions SET first_id = 150 WHERE action_id = 'ISS-2'"))
    assert "DC01" not in _screened_rules(engine)

    with engine.begin() as connection:
        connection.execute(text("UPDATE actions SET first_id = 100 WHERE action_id = 'ISS-2'"))
    assert "DC01" in _screened_rules(engine)


def test_a_rolled_back_write_leaves_the_copy_as_it_was(engine: Engine, tmp_path: Path) -> None:
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-1", 1, 100))
    before = _screened_rules(engine)

    class Crash(Exception):
        pass

    with pytest.raises(Crash), engine.begin() as connection:
        writer = IndexWriter(connection, "IDN01", "test")
        writer.apply([Incoming.from_record(action("ISS-2", 50, 150), "")])  # folded
        _insert_copy(connection, "SQL-1", 20, 30)  # noted, not folded
        raise Crash
    assert _screened_rules(engine) == before
    if engine.dialect.name == "sqlite":
        assert _noted(engine) == 0
    with engine.connect() as connection:
        records = screen.read(connection)
    assert len(records) == 1


def test_lost_triggers_are_restored_and_the_copy_rebuilt(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A migration that rebuilds `actions` (SQLite's batch mode) drops its triggers: the
    check notices, restores them and rebuilds the copy (kept when the check commits)."""
    engine = sqlite_engine
    with engine.begin() as connection:
        writer = IndexWriter(connection, "IDN01", "test")
        writer.apply([Incoming.from_record(action("ISS-1", 1, 100), "")])
        for name in columns.trigger_names():
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        _insert_copy(connection, "SQL-1", 50, 60)  # not noted
    assert "DC01" in _screened_rules(engine)
    Index(engine, tmp_path).check(full=True, as_of=AS_OF)
    with engine.connect() as connection:
        triggers = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).scalars()
        # The copy's, and the first-transferred totals' (`index.first_transferred`).
        assert set(triggers) == {*columns.trigger_names(), *first_transferred.trigger_names()}
    assert "DC01" in _screened_rules(engine)


def test_a_partition_reads_only_its_approaches(engine: Engine, tmp_path: Path) -> None:
    index = Index(engine, tmp_path)
    index.put(
        "IDN01",
        action("ISS-1", 1, 100),
        action("ISS-2", 1, 100, cooperative_approach_id="CA0002"),
        action("ISS-3", 1, 100, cooperative_approach_id="CA0002"),
    )
    with engine.connect() as connection:
        every = screen.read(connection)
        second = screen.read(connection, ["CA0002"])
        first = screen.read(connection, ["CA0001", "not an approach"])
    assert (len(every), len(second), len(first)) == (3, 2, 1)
    assert sorted([*second.ids.tolist(), *first.ids.tolist()]) == sorted(every.ids.tolist())


def test_a_copy_of_many_segments_loads_every_record_once_holdings_last(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Segments of three records: the records of both tables, spread over many segments
    of each, come back each once, in id order per table, the holdings flagged."""
    monkeypatch.setattr(columns, "SEGMENT", 3)
    engine = sqlite_engine
    index = Index(engine, tmp_path)
    index.put("IDN01", *(action(f"ISS-{n}", 100 * n + 1, 100 * n + 50) for n in range(10)))
    index.put("JPN01", *(holding(f"J{n}", 100 * n + 1, 100 * n + 50) for n in range(7)))
    with engine.connect() as connection:
        columns.rebuild(connection)
        segments = connection.exec_driver_sql(
            f"SELECT kind, count(*) FROM {columns.STORE} GROUP BY kind"
        ).all()
        stored = columns.load(connection)
        action_ids = connection.exec_driver_sql("SELECT id FROM actions ORDER BY id").scalars()
        holding_ids = connection.exec_driver_sql("SELECT id FROM holdings ORDER BY id").scalars()
        expected = [*action_ids.all(), *holding_ids.all()]
        connection.rollback()
    assert all(count >= 3 for _, count in segments)
    assert stored.records["id"].tolist() == expected
    assert stored.holding.tolist() == [False] * 10 + [True] * 7
    assert (stored.records["last"] - stored.records["first"] == 49).all()


def test_the_migration_builds_the_copy_from_the_rows_already_stored(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    engine = sqlite_engine
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-1", 1, 100), action("ISS-2", 50, 150))
    index.put("JPN01", holding("J", 1, 50))
    command.downgrade(migrate.alembic_config(engine), "0015_detection_partition")
    with engine.connect() as connection:
        tables = connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars().all()
    assert columns.STORE not in tables
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert len(columns.load(connection)) == 3
    assert "DC01" in _screened_rules(engine)


def test_the_stored_codes_cover_exactly_the_schemas_lists() -> None:
    """The copy stores action and account types as codes of its own fixed tables (their
    order is on disk): a type the schema gains or loses must be added to them on
    purpose, never fall silently to "another"."""
    from metareg.records.schemas import load_schema

    action_types = load_schema("action")["properties"]["action_type"]["enum"]
    account_types = load_schema("holding")["properties"]["account_type"]["enum"]
    assert set(columns.ACTION_TYPES) == set(action_types)
    assert set(columns.ACCOUNT_TYPES) == set(account_types)
    shared = load_schema("block")["$defs"]
    assert set(columns.METRICS) == set(shared["metric"]["enum"])
    assert set(columns.MITIGATION_TYPES) == set(shared["mitigation_type"]["enum"])


def _reading(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row ids the fold reads back from the tables (the writer's own rows it has)."""
    read: list[int] = []
    original = columns._read

    def spy(connection: Any, kind: int, ids: Any, every: bool) -> Any:
        read.extend(ids.tolist())
        return original(connection, kind, ids, every)

    monkeypatch.setattr(columns, "_read", spy)
    return read


def _ids(engine: Engine, *uids: str) -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id FROM actions WHERE action_id IN :uids ORDER BY id").bindparams(
                sqlalchemy.bindparam("uids", expanding=True)
            ),
            {"uids": list(uids)},
        )
        return [row[0] for row in rows]


def test_the_writers_rows_and_plain_sql_in_one_transaction_both_land(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer folds its own rows from what it holds and reads back only what other
    statements of its transaction changed: an issuance inserted with plain SQL before
    the batch, and one of the batch's rows a statement changes after the writer wrote
    it (before the fold)."""
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-1", 1, 100), action("ISS-2", 201, 300))
    read = _reading(monkeypatch)
    index.put("IDN01", action("ISS-3", 401, 500), holding("H", 601, 700))
    assert read == []  # an ingest reads nothing back
    assert "DC01" not in _screened_rules(engine)

    fold = columns.fold

    def changed_after_the_write(connection: Any, written: Any = ()) -> int:
        # A statement of the writer's transaction between its write and its fold.
        connection.execute(text("UPDATE actions SET first_id = 250 WHERE action_id = 'ISS-4'"))
        return fold(connection, written)

    with engine.begin() as connection:
        _insert_copy(connection, "SQL-1", 50, 60)  # overlaps ISS-1
        writer = IndexWriter(connection, "IDN01", "test")
        monkeypatch.setattr(columns, "fold", changed_after_the_write)
        writer.apply(
            [
                Incoming.from_record(action("ISS-2", 201, 310), ""),  # a correction
                Incoming.from_record(action("ISS-4", 801, 900), ""),  # then moved to 250
                Incoming.from_record(action("ISS-5", 901, 1000), ""),
            ]
        )
        monkeypatch.setattr(columns, "fold", fold)
    if engine.dialect.name == "sqlite":
        assert _noted(engine) == 0  # all folded by the writer
        assert sorted(read) == _ids(engine, "SQL-1", "ISS-4")
    # SQL-1 overlaps ISS-1, the moved ISS-4 (250-900) overlaps the corrected ISS-2.
    with engine.connect() as connection:
        moved = connection.execute(
            text("SELECT first_id FROM actions WHERE action_id = 'ISS-4'")
        ).scalar()
    assert moved == 250
    assert "DC01" in _screened_rules(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM actions WHERE action_id IN ('SQL-1', 'ISS-4')"))
    assert "DC01" not in _screened_rules(engine)


def test_writers_of_one_transaction_fold_once_at_its_end(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync's pages share a transaction, a writer each (`fold=False`), and the copies
    are folded once at its end with every writer's rows: a later page's correction and
    withdrawal of an earlier page's rows land as one write per page would have left
    them, and none of the writers' own rows is read back."""
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-0", 1, 100))
    read = _reading(monkeypatch)
    pages: list[list[Operation]] = [
        [
            Incoming.from_record(action("ISS-1", 201, 300), ""),
            Incoming.from_record(action("ISS-2", 401, 500), ""),
            Incoming.from_record(action("ISS-3", 601, 700), ""),
        ],
        [Incoming.from_record(action("ISS-2", 50, 500), "")],  # corrected to overlap ISS-0
        [Withdrawal("action", "ISS-3"), Incoming.from_record(holding("H", 1, 20), "")],
    ]
    folds: list[int] = []
    fold = columns.fold

    def counted(connection: Any, written: Any = ()) -> int:
        folds.append(len(written))
        return fold(connection, written)

    monkeypatch.setattr(columns, "fold", counted)
    with engine.begin() as connection:
        unfolded: list[columns.Written] = []
        for ops in pages:
            writer = IndexWriter(connection, "IDN01", "test", fold=False)
            writer.apply(ops)
            unfolded.extend(writer.unfolded)
        assert folds == []
        fold_copies(connection, unfolded)
    assert folds == [len(unfolded)] and (engine.dialect.name != "sqlite" or len(unfolded) >= 3)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            present = {
                row_id
                for (row_id,) in connection.execute(
                    text("SELECT id FROM actions UNION ALL SELECT id FROM holdings")
                )
            }
        assert _noted(engine) == 0 and len(read) == 1 and not set(read) & present
    assert _screened_rules(engine) >= {"DC01"}  # the corrected ISS-2 overlaps ISS-0
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM actions WHERE action_id = 'ISS-2'"))
    assert "DC01" not in _screened_rules(engine)


def test_rows_the_writer_cannot_vouch_for_are_read_back(sqlite_engine: Engine) -> None:
    """Rows handed to the fold that do not match what the triggers noted (another
    number of rows), or whose values the database stores otherwise (a vintage given as
    text is stored as a number), are read back from the table instead."""
    engine = sqlite_engine
    names = [c.name for c in Action.columns if c.name != "id"]

    def row(uid: str, first: int, last: int, vintage: Any) -> tuple[Any, ...]:
        record = {
            **{name: None for name in names},
            "cooperative_approach_id": "CA0001",
            "party_registry_id": "IDN01",
            "first_transferring_party_id": "IDN",
            "first_id": first,
            "last_id": last,
            "vintage": vintage,
            "metric": "GHG",
            "registry_id": "IDN01",
            "uid": uid,
            "content_hash": uid,
            "action_id": uid,
            "action_date": date(2024, 2, 1),
            "action_type": "Issuance",
        }
        return tuple(record[name] for name in names)

    insert = f"INSERT INTO actions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    cases = {
        "counted wrong": ([row("A", 1, 10, 2021), row("B", 5, 20, 2021)], 1),
        "stored otherwise": ([row("C", 30, 40, "2021"), row("D", 35, 50, "2021")], 0),
    }
    for rows, dropped in cases.values():
        with engine.begin() as connection:
            before = columns.mark(connection)
            as_text = [tuple(v.isoformat() if isinstance(v, date) else v for v in r) for r in rows]
            connection.exec_driver_sql(insert, as_text)
            after = columns.mark(connection)
            assert before is not None and after is not None
            handed = rows[: len(rows) - dropped]
            columns.fold(
                connection, [columns.Written(columns.ACTION, names, handed, before, after)]
            )
    assert _noted(engine) == 0
    with engine.connect() as connection:
        kept = columns.load(connection)
        columns.rebuild(connection)
        fresh = columns.load(connection)
        connection.rollback()
    assert len(kept) == 4
    assert np.array_equal(np.sort(kept.records), np.sort(fresh.records))


def _top_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT max(id) FROM actions").scalar_one())


def _id_of(engine: Engine, action_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT id FROM actions WHERE action_id = :a"), {"a": action_id}
            ).scalar_one()
        )


def test_an_id_given_again_after_the_top_row_is_deleted_is_copied(
    engine: Engine, tmp_path: Path
) -> None:
    """No trigger notes an insert: the copy takes the rows past the largest id it has
    folded. SQLite gives a deleted top row's id to the next insert, and the copy holds
    that new row whether it folded the delete first or not, whoever inserts it."""
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-1", 1, 100), action("ISS-2", 201, 300))
    with engine.begin() as connection:
        _insert_copy(connection, "SQL-1", 400, 500)  # the top row
    top = _top_id(engine)
    assert "DC01" not in _screened_rules(engine)

    # Deleted and its id given again, in one transaction (no fold between).
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM actions WHERE action_id = 'SQL-1'"))
        _insert_copy(connection, "SQL-2", 50, 60)  # overlaps ISS-1
    if engine.dialect.name == "sqlite":
        assert _id_of(engine, "SQL-2") == top
    assert "DC01" in _screened_rules(engine)

    # Deleted, folded by the writer's next batch, then its id given again.
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM actions WHERE action_id = 'SQL-2'"))
    index.put("IDN01", action("ISS-0", 1001, 1100))  # the writer folds (and commits)
    assert "DC01" not in _screened_rules(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM actions WHERE action_id = 'ISS-0'"))
    index.put("KOR01", holding("K", 1, 10))  # folds the deletes: the copy's mark moves down
    with engine.begin() as connection:
        _insert_copy(connection, "SQL-3", 60, 70)  # overlaps ISS-1
    if engine.dialect.name == "sqlite":
        assert _id_of(engine, "SQL-3") == top
    assert "DC01" in _screened_rules(engine)

    # The writer withdraws the top row and inserts the next: it gives the same id.
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM actions WHERE action_id = 'SQL-3'"))
    index.put("IDN01", action("ISS-4", 70, 80))  # overlaps ISS-1
    if engine.dialect.name == "sqlite":
        assert _id_of(engine, "ISS-4") == top
    assert "DC01" in _screened_rules(engine)
    index.put("IDN01", withdrawal({"record_type": "action", "action_id": "ISS-4"}))
    index.put("IDN01", action("ISS-5", 3001, 3100))
    assert "DC01" not in _screened_rules(engine)


def test_inserts_carry_no_trigger_and_the_migration_keeps_what_the_old_ones_kept(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A database whose copies were kept by insert triggers (before 0027): after the
    upgrade no insert carries a trigger, and the copy and the totals are still exactly
    what the rows say, before and after further writes."""
    engine = sqlite_engine
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-1", 1, 100))
    config = migrate.alembic_config(engine)
    command.downgrade(config, "0025_first_transferred_kept")
    assert "0027_inserts_untriggered" not in migrate.applied(engine)
    with engine.begin() as connection:
        # The insert triggers as 0016 and 0025 made them.
        connection.exec_driver_sql(
            f"CREATE TRIGGER {columns.STORE}_actions_insert AFTER INSERT ON actions "
            f"BEGIN INSERT INTO {columns.DIRTY} (kind, row_id) VALUES (0, NEW.id); END"
        )
        connection.exec_driver_sql(
            f"CREATE TRIGGER {first_transferred.TABLE}_insert AFTER INSERT ON actions BEGIN "
            f"INSERT INTO {first_transferred.TABLE} (cooperative_approach_id, "
            "authorization_id, units) SELECT NEW.cooperative_approach_id, "
            "NEW.authorization_id, NEW.last_id - NEW.first_id + 1 "
            "WHERE NEW.action_type = 'First transfer' AND NEW.authorization_id IS NOT NULL "
            "ON CONFLICT (cooperative_approach_id, authorization_id) "
            "DO UPDATE SET units = units + excluded.units; END"
        )
        _insert_copy(connection, "SQL-1", 50, 60)  # noted by the old trigger
    migrate.upgrade(engine)
    with engine.connect() as connection:
        names = set(
            connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).scalars()
        )
    assert names == {*columns.trigger_names(), *first_transferred.trigger_names()}
    assert not any(name.endswith("_insert") for name in names)
    assert "DC01" in _screened_rules(engine)
    index.put("IDN01", action("ISS-2", 500, 600), action("ISS-3", 550, 650))
    assert _noted(engine) == 0  # nothing noted the inserts
    assert "DC01" in _screened_rules(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM actions WHERE action_id IN ('SQL-1', 'ISS-3')"))
    assert "DC01" not in _screened_rules(engine)
