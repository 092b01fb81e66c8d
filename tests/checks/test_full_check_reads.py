"""A full check of a large index reads the authorization and units rules' findings and
every alert in a reading process while it judges the blocks
(`checks.full_reads`); a small index's check does it all itself unless a
reading process is already waiting.

What a user would notice: the alerts are those of one check judging everything
itself, whatever becomes of that process (it ends before answering: the check judges
them itself; its job fails: the check fails and changes nothing), and the process
reads exactly the index the check judges (PostgreSQL: the check's snapshot, not what
writers commit meanwhile). The test worlds are small: `as_large` makes the check take
them for large ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bench.generator import Manifest, generate
from metareg.checks import full_reads
from metareg.checks.runner import run_checks
from metareg.db.engine import make_engine
from metareg.db.locks import index_snapshot, reader_elsewhere, shared_reader
from metareg.db.tables.alerts import DetectionState
from metareg.db.tables.index import Action
from tests.checks import reading_jobs
from tests.checks.generated import (
    AS_OF,
    NOW,
    assert_a_full_check_changes_nothing,
    load,
    open_alerts,
)


@pytest.fixture
def as_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every index is large enough for a reading process."""
    monkeypatch.setattr(full_reads, "READING_PROCESS_FROM_ROWS", 0)


@pytest.fixture
def loaded(engine: Engine, world: Manifest) -> Engine:
    """The world loaded, never checked."""
    load(engine, world)
    return engine


def test_a_reading_process_that_ends_before_answering_leaves_the_check_whole(
    loaded: Engine, monkeypatch: pytest.MonkeyPatch, as_large: None
) -> None:
    engine = loaded
    with monkeypatch.context() as patched:
        patched.setattr(full_reads, "full_check_reads", reading_jobs.dies)
        run_checks(engine, full=True, as_of=AS_OF, now=NOW)
    judged_here = open_alerts(engine)
    # Block rules, authorization rules and units rules: all judged without the process.
    assert {"DC01", "DC03", "DC07"} <= set(judged_here.values())
    assert_a_full_check_changes_nothing(engine)  # with its reading process
    assert open_alerts(engine) == judged_here
    with monkeypatch.context() as patched:
        patched.setattr(full_reads, "full_check_reads", reading_jobs.dies)
        assert_a_full_check_changes_nothing(engine)


def test_a_failing_reading_process_fails_the_check_and_changes_nothing(
    loaded: Engine, monkeypatch: pytest.MonkeyPatch, as_large: None
) -> None:
    engine = loaded
    with monkeypatch.context() as patched:
        patched.setattr(full_reads, "full_check_reads", reading_jobs.fails)
        with pytest.raises(RuntimeError, match="could not read the index"):
            run_checks(engine, full=True, as_of=AS_OF, now=NOW)
    assert open_alerts(engine) == {}
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(DetectionState)).scalar() == 0
    run_checks(engine, full=True, as_of=AS_OF, now=NOW)
    assert open_alerts(engine)


@pytest.mark.parametrize("waiting", [False, True])
def test_a_small_index_is_checked_without_starting_a_reading_process(
    loaded: Engine, monkeypatch: pytest.MonkeyPatch, waiting: bool
) -> None:
    engine = loaded
    # A reading process would fail this check: it is used only where one is waiting.
    monkeypatch.setattr(full_reads, "full_check_reads", reading_jobs.fails)
    monkeypatch.setattr(full_reads, "child_waiting", lambda: waiting)
    if waiting:
        with pytest.raises(RuntimeError, match="could not read the index"):
            run_checks(engine, full=True, as_of=AS_OF, now=NOW)
    else:
        run_checks(engine, full=True, as_of=AS_OF, now=NOW)
        assert {"DC01", "DC03", "DC07"} <= set(open_alerts(engine).values())


def test_no_reading_process_where_no_other_process_sees_the_database(tmp_path: Path) -> None:
    memory = make_engine("sqlite://")
    file = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    try:
        with memory.connect() as connection:
            assert reader_elsewhere(connection) is None
        with file.connect() as connection:
            assert reader_elsewhere(connection) == (f"sqlite:///{tmp_path / 'index.db'}", None)
    finally:
        memory.dispose()
        file.dispose()


def test_the_reading_process_reads_the_checks_snapshot_not_later_writes(
    engine: Engine, world: Manifest, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the check holds the write lock, no writer commits meanwhile")
    load(engine, world)
    actions = select(func.count()).select_from(Action)
    with engine.connect() as base, index_snapshot(base) as index:
        before = index.execute(actions).scalar()
        reader = reader_elsewhere(index)
        assert reader is not None and reader[1] is not None  # the snapshot to import
        # A writer commits while the check reads its snapshot.
        more = generate(tmp_path / "more", 200, seed=11)
        load(engine, more)
        with engine.connect() as fresh:
            assert fresh.execute(actions).scalar() > before
        with shared_reader(*reader) as elsewhere:
            assert elsewhere.execute(actions).scalar() == before
