"""The units first transferred per authorization key, kept at write time (SQLite's table,
PostgreSQL's parts).

`tests/detection/test_cached_totals.py` holds the authorization check's totals equal to
the exact SQL sum after random writes (its misses read the kept table on SQLite). Here:
what a user of the index would notice if the table were trusted when it cannot be. A
migration that rebuilds `actions` drops their triggers; until the next check the
answer must still be the sum of what is stored, and the next check puts the triggers
back and rebuilds the table. On PostgreSQL, where writers of different registries run
at once, none of them waits on another's count, nor on a check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine

from metareg.checks.runner import run_checks
from metareg.db import triggers
from metareg.detection.read import authorizations, cached_totals
from metareg.index import first_transferred
from tests.detection.test_cached_totals import _clear, _first_transfer, _write
from tests.helpers import insert_action_copy


def _total(engine: Engine) -> int:
    """The authorization check's total from a connection new to the engine's memory."""
    with engine.connect() as connection:
        exact = authorizations.first_transferred(connection, "CA0001", "AUTH-1")
        assert cached_totals.first_transferred(connection, "CA0001", "AUTH-1") == exact
        connection.invalidate()  # the next one is new to the memory too
        return exact


def test_the_kept_total_is_the_sum_and_survives_its_triggers_being_dropped(
    engine: Engine,
) -> None:
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(1, 1, 10), _first_transfer(2, 11, 15)])
    assert _total(engine) == 15
    with engine.connect() as connection:
        kept = first_transferred.units(connection, "CA0001", "AUTH-1")
    assert kept == 15

    # As a batch migration of `actions` would leave it: no triggers, a stale table.
    with engine.begin() as connection:
        _drop_triggers(connection)
        _write(connection, [_first_transfer(3, 16, 40)])  # +25, not counted by any trigger
    with engine.connect() as connection:
        assert first_transferred.units(connection, "CA0001", "AUTH-1") is None  # not trusted
    assert _total(engine) == 40  # summed

    run_checks(engine, as_of=date(2024, 6, 30))  # puts the triggers back, rebuilds
    with engine.connect() as connection:
        assert first_transferred.units(connection, "CA0001", "AUTH-1") == 40
    with engine.begin() as connection:
        _write(connection, [_first_transfer(3, 16, 20)])  # a correction: 25 -> 5 units
    with engine.connect() as connection:
        assert first_transferred.units(connection, "CA0001", "AUTH-1") == 20
    assert _total(engine) == 20


def _drop_triggers(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        for name in first_transferred.trigger_names():
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
    else:
        for name in first_transferred.PARTS_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER {name} ON actions")


def test_a_key_whose_first_transfers_are_gone_keeps_zero(engine: Engine) -> None:
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(1, 1, 10)])
    record = dict(_first_transfer(1, 1, 10)[1], action_type="Use", purpose="NDC")
    with engine.begin() as connection:
        _write(connection, [("IDN01", record)])  # no longer a first transfer
    assert _total(engine) == 0
    with engine.connect() as connection:
        assert first_transferred.units(connection, "CA0001", "AUTH-1") == 0


def test_a_total_past_what_an_integer_holds_is_never_answered_rounded(engine: Engine) -> None:
    """Ten first transfers of 10**18 - 1 units each: SQLite's `+` would keep ~1e19 as a
    float. The kept table must not answer it; the sum decides, as it did before.
    PostgreSQL's parts hold it exactly."""
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(n, 1, 10**18 - 1) for n in range(10)])
    with engine.connect() as connection:
        kept = first_transferred.units(connection, "CA0001", "AUTH-1")
    if engine.dialect.name != "sqlite":
        assert kept == 10 * (10**18 - 1) == _total(engine)
        return
    assert kept is None

    # Rebuilt after its triggers were dropped (as a batch migration leaves it): the
    # check runs (SQLite's `sum()` would raise on this key), puts the triggers back, and
    # the total is stored as the triggers' `+` leaves it, a float never answered.
    with engine.begin() as connection:
        for name in first_transferred.trigger_names():
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
    run_checks(engine, as_of=date(2024, 6, 30))
    with engine.connect() as connection:
        assert triggers.all_present(connection, first_transferred.trigger_names())
        stored = f"SELECT typeof(units) FROM {first_transferred.TABLE}"
        assert connection.exec_driver_sql(stored).scalar() == "real"
        assert first_transferred.units(connection, "CA0001", "AUTH-1") is None


def _exact(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT coalesce(sum(last_id - first_id + 1), 0) FROM actions "
                "WHERE action_type = 'First transfer' AND cooperative_approach_id = 'CA0001' "
                "AND authorization_id = 'AUTH-1'"
            ).scalar_one()
        )


def _kept(engine: Engine) -> int | None:
    with engine.connect() as connection:
        return first_transferred.units(connection, "CA0001", "AUTH-1")


def _copy_row(connection: Any, number: int, first: int, last: int) -> None:
    """A first transfer inserted with plain SQL (not through the writer)."""
    insert_action_copy(connection, "A1", f"SQL-{number}", first, last)


def test_rows_inserted_past_the_writer_and_ids_given_again_are_counted(engine: Engine) -> None:
    """SQLite: no trigger counts an insert, the writer's batch counts the rows past the
    mark. A row inserted with plain SQL is never answered from a stale total (the answer
    is summed until the next fold counts it), nor one that takes the id of a deleted row
    at the top (SQLite gives that id again). PostgreSQL's row triggers count each at
    once."""
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(1, 1, 10), _first_transfer(2, 11, 15)])
    sqlite = engine.dialect.name == "sqlite"
    assert _total(engine) == _exact(engine) == 15
    assert _kept(engine) == 15

    with engine.begin() as connection:
        _copy_row(connection, 1, 101, 105)  # +5, past the writer
    assert _total(engine) == _exact(engine) == 20
    # SQLite: not counted yet, not answered from the table.
    assert _kept(engine) == (None if sqlite else 20)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(3, 21, 30)])  # +10; the writer counts both
    assert _total(engine) == _exact(engine) == 30
    assert _kept(engine) == 30

    # The top row deleted and its id given again, in one transaction, then folded.
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM actions WHERE id = (SELECT max(id) FROM actions)")
        _copy_row(connection, 2, 201, 300)  # +100 where 10 were
    assert _total(engine) == _exact(engine) == 120
    assert _kept(engine) in (None, 120)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(4, 31, 31)])  # +1
    assert _total(engine) == _exact(engine) == 121
    assert _kept(engine) == 121

    # Deleted and folded by a write, then the id given again by the writer itself.
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM actions WHERE id = (SELECT max(id) FROM actions)")
    assert _total(engine) == _exact(engine) == 120
    with engine.begin() as connection:
        _write(connection, [_first_transfer(5, 41, 42)])  # +2
    assert _total(engine) == _exact(engine) == 122
    assert _kept(engine) == 122


def test_postgres_writers_of_one_key_and_a_check_never_wait_on_each_other(
    engine: Engine,
) -> None:
    """Two open transactions count first transfers of the same key (as two registries'
    syncs would), and a check folds the parts meanwhile: none of them waits for another
    to commit (each statement would fail after a second of waiting), and once both
    commit the total is the sum."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's parts: SQLite has one writer at a time")
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(1, 1, 10)])
    impatient = create_engine(
        engine.url.render_as_string(hide_password=False),
        connect_args={"options": "-c lock_timeout=1000"},
    )
    try:
        first = impatient.connect()
        _copy_row(first, 1, 11, 20)  # +10: a committed part of this process
        first.commit()
        _copy_row(first, 2, 21, 25)  # +5: its part updated, and held until the commit
        with impatient.begin() as second:
            _copy_row(second, 3, 26, 50)  # +25 by another process, the same key
        with impatient.connect() as checking:
            first_transferred.ensure(checking)  # folds every part nobody holds
        assert _kept(engine) == _exact(engine) == 45  # the open transaction's 5 unseen
        first.commit()
        first.close()
        assert _kept(engine) == _exact(engine) == 50
        with impatient.connect() as checking:
            first_transferred.ensure(checking)
        with engine.connect() as connection:
            parts = connection.exec_driver_sql(
                f"SELECT process, units FROM {first_transferred.PARTS}"
            ).all()
        assert [(process, int(units)) for process, units in parts] == [(0, 50)]
    finally:
        impatient.dispose()


def test_postgres_counts_what_plain_sql_updates_deletes_and_truncates(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's row triggers (SQLite's are tested above)")
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(1, 1, 10), _first_transfer(2, 11, 15)])
        _copy_row(connection, 1, 101, 200)
    assert _kept(engine) == _exact(engine) == 115
    statements = [
        "UPDATE actions SET last_id = last_id + 5 WHERE uid = 'SQL-1'",  # +5
        "UPDATE actions SET action_type = 'Use' WHERE last_id = 15",  # no longer counted
        "UPDATE actions SET authorization_id = 'AUTH-2' WHERE last_id = 10",  # another key
        "UPDATE actions SET action_type = 'First transfer' WHERE last_id = 15",  # again
        "UPDATE actions SET sectors = NULL",  # nothing counted changes
        "DELETE FROM actions WHERE uid = 'SQL-1'",
    ]
    for statement in statements:
        with engine.begin() as connection:
            connection.exec_driver_sql(statement)
        assert _kept(engine) == _exact(engine)
    assert _exact(engine) == 5
    with engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE actions CASCADE")
    assert _kept(engine) == _exact(engine) == 0


def test_postgres_a_writers_batch_leaves_one_row_per_key(engine: Engine) -> None:
    """The triggers note a row per first transfer; the writer's batch gathers its own
    into one per key, so a load leaves a few rows a key, not one per first transfer."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's parts")
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(n, 10 * n + 1, 10 * n + 10) for n in range(40)])
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            f"SELECT cooperative_approach_id, authorization_id, units "
            f"FROM {first_transferred.PARTS}"
        ).all()
    assert [(ca, aid, int(units)) for ca, aid, units in rows] == [("CA0001", "AUTH-1", 400)]
    assert _kept(engine) == _exact(engine) == 400
