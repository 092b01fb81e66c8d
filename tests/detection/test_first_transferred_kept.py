"""The units first transferred per authorization key, kept at write time (SQLite).

`tests/detection/test_cached_totals.py` holds the authorization check's totals equal to
the exact SQL sum after random writes (its misses read the kept table on SQLite). Here:
what a user of the index would notice if the table were trusted when it cannot be. A
migration that rebuilds `actions` drops their triggers; until the next check the
answer must still be the sum of what is stored, and the next check puts the triggers
back and rebuilds the table. On PostgreSQL nothing is kept: the answer is summed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine

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
    assert kept == (15 if engine.dialect.name == "sqlite" else None)
    if engine.dialect.name != "sqlite":
        return

    # As a batch migration of `actions` would leave it: no triggers, a stale table.
    with engine.begin() as connection:
        for name in first_transferred.trigger_names():
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
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


def test_a_key_whose_first_transfers_are_gone_keeps_zero(engine: Engine) -> None:
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(1, 1, 10)])
    record = dict(_first_transfer(1, 1, 10)[1], action_type="Use", purpose="NDC")
    with engine.begin() as connection:
        _write(connection, [("IDN01", record)])  # no longer a first transfer
    assert _total(engine) == 0
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert first_transferred.units(connection, "CA0001", "AUTH-1") == 0


def test_a_total_past_what_an_integer_holds_is_never_answered_rounded(engine: Engine) -> None:
    """Ten first transfers of 10**18 - 1 units each: SQLite's `+` would keep ~1e19 as a
    float. The kept table must not answer it; the sum decides, as it did before."""
    if engine.dialect.name != "sqlite":
        return
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(n, 1, 10**18 - 1) for n in range(10)])
    with engine.connect() as connection:
        assert first_transferred.units(connection, "CA0001", "AUTH-1") is None

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
    """No trigger counts an insert: the writer's batch counts the rows past the mark.
    A row inserted with plain SQL is never answered from a stale total (the answer is
    summed until the next fold counts it), nor one that takes the id of a deleted row
    at the top (SQLite gives that id again)."""
    _clear(engine)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(1, 1, 10), _first_transfer(2, 11, 15)])
    sqlite = engine.dialect.name == "sqlite"
    assert _total(engine) == _exact(engine) == 15
    assert _kept(engine) == (15 if sqlite else None)

    with engine.begin() as connection:
        _copy_row(connection, 1, 101, 105)  # +5, past the writer
    assert _total(engine) == _exact(engine) == 20
    assert _kept(engine) is None  # not counted yet: not answered from the table
    with engine.begin() as connection:
        _write(connection, [_first_transfer(3, 21, 30)])  # +10; the writer counts both
    assert _total(engine) == _exact(engine) == 30
    assert _kept(engine) == (30 if sqlite else None)

    # The top row deleted and its id given again, in one transaction, then folded.
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM actions WHERE id = (SELECT max(id) FROM actions)")
        _copy_row(connection, 2, 201, 300)  # +100 where 10 were
    assert _total(engine) == _exact(engine) == 120
    assert _kept(engine) in (None, 120)
    with engine.begin() as connection:
        _write(connection, [_first_transfer(4, 31, 31)])  # +1
    assert _total(engine) == _exact(engine) == 121
    assert _kept(engine) == (121 if sqlite else None)

    # Deleted and folded by a write, then the id given again by the writer itself.
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM actions WHERE id = (SELECT max(id) FROM actions)")
    assert _total(engine) == _exact(engine) == 120
    with engine.begin() as connection:
        _write(connection, [_first_transfer(5, 41, 42)])  # +2
    assert _total(engine) == _exact(engine) == 122
    assert _kept(engine) == (122 if sqlite else None)
