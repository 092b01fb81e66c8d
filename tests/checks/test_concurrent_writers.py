"""Index writers and checks on PostgreSQL without one global lock (issue 18).

What a user running several sync workers and a scheduled check would notice: two
registries' workers write at once, a full check does not hold either of them back,
and nothing written while a check runs is lost to the next (incremental) check.

Every wait here is on a lock; the engines used by the side that must *not* wait fail
after a few seconds (`lock_timeout`) instead of hanging, and the tests wait for a
blocked statement by looking at `pg_locks`, never by sleeping for a guessed time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from metareg.alerts import store
from metareg.checks import runner
from metareg.checks.runner import run_checks
from metareg.db.engine import make_engine
from metareg.index.writer import IndexWriter
from metareg.records.operations import Incoming
from metareg.registries import ensure_registry
from tests.conftest import _empty_postgres
from tests.helpers import action

pytestmark = pytest.mark.postgres

NOW = datetime(2025, 6, 1, tzinfo=UTC)
AS_OF = date(2025, 6, 1)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    _empty_postgres(postgres_url)
    engine = make_engine(postgres_url)
    for registry in ("IDN01", "JPN01"):
        with engine.begin() as connection:
            ensure_registry(connection, registry)
    yield engine
    engine.dispose()


@pytest.fixture
def impatient(postgres_url: str) -> Iterator[Engine]:
    """An engine whose lock waits fail after 5 s: what must not wait, raises."""
    engine = make_engine(postgres_url, connect_args={"options": "-c lock_timeout=5000"})
    yield engine
    engine.dispose()


def _ops(*records: dict[str, Any]) -> list[Incoming]:
    return [Incoming.from_record(r, "{}", f"test:{i}") for i, r in enumerate(records)]


def _issuance(action_id: str) -> dict[str, Any]:
    """An issuance of serials 1-100 of IDN01's block (two of them: DC01)."""
    return action(action_id, 1, 100, metric="GHG")


def _write(connection: Connection, registry: str, action_id: str) -> None:
    IndexWriter(connection, registry, "test").apply(_ops(_issuance(action_id)))


def _dc01_open(engine: Engine) -> int:
    with engine.connect() as connection:
        alerts = store.list_alerts(connection, rule="DC01", status="open")
    return len(alerts)


def _wait_for_lock_waiter(engine: Engine) -> None:
    """Until some backend waits for an advisory lock (a check queued behind a writer)."""
    deadline = datetime.now(UTC).timestamp() + 60
    with engine.connect() as connection:
        while datetime.now(UTC).timestamp() < deadline:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
            connection.rollback()
            if waiting:
                return
            threading.Event().wait(0.02)
    raise AssertionError("no backend ever waited for the index lock")


def test_two_registries_write_to_the_index_at_once(pg_engine: Engine, impatient: Engine) -> None:
    with pg_engine.begin() as connection:
        _write(connection, "IDN01", "I-0")
    with pg_engine.begin() as first:
        _write(first, "IDN01", "I-1")  # still open: holds its place in the index log
        with impatient.begin() as second:  # another worker, another registry, same block
            acquisition = action(
                "A-1", 1, 100, "Acquisition", transferring_party_id="IDN", metric="GHG"
            )
            IndexWriter(second, "JPN01", "test").apply(_ops(acquisition))
    with pg_engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM actions")).scalar_one()
    assert count == 3


def test_a_full_check_does_not_hold_back_index_writers_and_loses_nothing(
    pg_engine: Engine, impatient: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pg_engine.begin() as connection:
        _write(connection, "IDN01", "I-1")
    detecting, release = threading.Event(), threading.Event()
    find_all = runner.find_all

    def slow_find_all(*args: Any, **kwargs: Any) -> Any:
        detecting.set()
        assert release.wait(60)
        return find_all(*args, **kwargs)

    monkeypatch.setattr(runner, "find_all", slow_find_all)
    errors: list[BaseException] = []
    check = threading.Thread(target=_run_into(errors, pg_engine, full=True))
    check.start()
    try:
        assert detecting.wait(60)
        # Mid-check: a worker writes the second issuance of the same serials, at once.
        with impatient.begin() as connection:
            _write(connection, "IDN01", "I-2")
    finally:
        release.set()
        check.join(60)
    assert not errors
    # The check judged the index as it stood when it began: one issuance, no DC01 ...
    assert _dc01_open(pg_engine) == 0
    monkeypatch.setattr(runner, "find_all", find_all)
    # ... and the next, incremental, check finds what was written meanwhile.
    summary = run_checks(pg_engine, as_of=AS_OF, now=NOW)
    assert not summary.full
    assert _dc01_open(pg_engine) == 1


def test_a_check_waits_for_a_writer_in_flight_and_judges_its_records(
    pg_engine: Engine,
) -> None:
    with pg_engine.begin() as connection:
        _write(connection, "IDN01", "I-1")
    run_checks(pg_engine, as_of=AS_OF, now=NOW)  # the watermark past I-1
    errors: list[BaseException] = []
    with pg_engine.begin() as writing:
        _write(writing, "IDN01", "I-2")  # its history id is taken, not yet committed
        check = threading.Thread(target=_run_into(errors, pg_engine, full=False))
        check.start()
        _wait_for_lock_waiter(pg_engine)  # the check's snapshot waits for this writer
    check.join(60)
    assert not errors
    assert _dc01_open(pg_engine) == 1


def _run_into(errors: list[BaseException], engine: Engine, *, full: bool) -> Callable[[], None]:
    def run() -> None:
        try:
            run_checks(engine, full=full, as_of=AS_OF, now=NOW)
        except BaseException as error:  # reported by the test's thread
            errors.append(error)

    return run
