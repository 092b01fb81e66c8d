"""Partitioned checks (issue 18): workers sharing one check partition by partition end
with exactly the alerts of one full check, never check one partition at once, and take
over a crashed worker's partition once its lease has expired.

"Exactly the alerts of one full check": after the partitioned check, a full check
(`run_checks(full=True)`) over the same index opens, reopens and resolves nothing.
The clock is passed in (`now`), so lease expiry never depends on timing.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from bench.generator import Manifest, increment
from metareg.checks.partitions import (
    APPROACHES,
    PROGRAMMES,
    Partition,
    check_partition,
    partitions,
    run_partitions,
)
from metareg.checks.runner import run_checks
from metareg.db.engine import make_engine
from metareg.db.locks import index_snapshot, serialize_writers, share_index_log
from metareg.db.tables.partitions import DetectionPartition
from metareg.sync.engine import LeaseLost
from metareg.sync.leases import Leases
from tests.checks.generated import (
    AS_OF,
    NOW,
    SIZE,
    assert_a_full_check_changes_nothing,
    load,
    open_alerts,
)
from tests.conftest import _empty_postgres
from tests.detection.test_incremental import History
from tests.detection.test_incremental import _alerts as every_alert
from tests.detection.test_incremental import _apply as apply_step
from tests.detection.test_incremental import steps as incremental_steps

TTL = timedelta(minutes=5)
partition_table = DetectionPartition


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    _empty_postgres(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def run(engine: Engine, holder: str, now: datetime = NOW, **kw: Any) -> Any:
    return run_partitions(engine, as_of=AS_OF, now=now, holder=holder, ttl=TTL, **kw)


def test_one_worker_finds_what_a_full_check_finds(engine: Engine, world: Manifest) -> None:
    load(engine, world)
    result = run(engine, "solo")
    assert sorted(result.checked) == sorted(p.name for p in partitions())
    alerts = open_alerts(engine)
    # The world's conflicts lie in several partitions of both kinds.
    assert {"DC01", "DC03", "DC07"} <= set(alerts.values())
    assert_a_full_check_changes_nothing(engine)
    assert open_alerts(engine) == alerts
    # Nothing changed: no partition is due again (the operational one only after a while).
    assert run(engine, "solo").checked == []
    assert run(engine, "solo", NOW + timedelta(minutes=1)).checked == ["operational"]


def test_a_full_check_first_then_partitions_change_nothing(engine: Engine, world: Manifest) -> None:
    load(engine, world)
    run_checks(engine, full=True, as_of=AS_OF, now=NOW)
    before = open_alerts(engine)
    result = run(engine, "solo")
    assert (result.opened, result.resolved) == (0, 0)
    assert open_alerts(engine) == before


def test_new_records_make_their_partitions_due_again(
    engine: Engine, world: Manifest, tmp_path: Path
) -> None:
    load(engine, world)
    first = run(engine, "solo")
    assert first.incremental == []  # never checked: each partition is judged whole
    more = increment(tmp_path / "more", SIZE, 200, "partitions")
    load(engine, more)
    again = run(engine, "solo")
    assert again.checked
    # Each continues from its last check: only what the new records can affect.
    assert again.incremental == [p for p in again.checked if p != "operational"]
    assert_a_full_check_changes_nothing(engine)


def test_a_full_partitioned_check_judges_every_partition_whole(
    engine: Engine, world: Manifest, tmp_path: Path
) -> None:
    load(engine, world)
    run(engine, "solo")
    load(engine, increment(tmp_path / "more", SIZE, 200, "partitions"))
    again = run(engine, "solo", full=True)
    assert again.checked and again.incremental == []
    assert_a_full_check_changes_nothing(engine)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=incremental_steps, grace=st.sampled_from((0, 30)))
def test_partitions_continued_step_by_step_equal_a_full_check(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path, history: History, grace: int
) -> None:
    """Hypothesis histories of the incremental check's own test (records, corrections,
    withdrawals, authorization versions, `acts_for` and synced-status changes, checks
    at moving dates), checked after every step by partitions that continue from their
    last check: at the end a full check opens, reopens, resolves and rewrites nothing."""
    folder = tmp_path_factory.mktemp("partitions")
    shutil.copy(migrated_sqlite, folder / "index.db")
    engine = make_engine(f"sqlite:///{folder / 'index.db'}")
    try:
        as_of = AS_OF
        for step, (registry, ops, as_of) in enumerate(history):
            apply_step(engine, registry, ops)
            now = datetime.combine(as_of, time(12), UTC)
            result = run_partitions(
                engine,
                as_of=as_of,
                grace_days=grace,
                now=now,
                holder="solo",
                ttl=TTL,
                approach_buckets=3,  # CA0001 and CA0002 in two partitions
                programme_buckets=1,
            )
            judged = [p for p in result.checked if p != "operational"]
            assert result.incremental == (judged if step else [])
        before = every_alert(engine)
        summary = run_checks(engine, full=True, as_of=as_of, grace_days=grace)
        assert (summary.opened, summary.reopened, summary.resolved) == ({}, {}, {})
        assert every_alert(engine) == before
    finally:
        engine.dispose()


def test_two_workers_share_one_check_on_postgres(pg_engine: Engine, world: Manifest) -> None:
    load(pg_engine, world)
    runs: dict[str, Any] = {}
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        start.wait()
        runs[name] = run(pg_engine, name)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    one, two = runs["w1"], runs["w2"]
    # Each partition was checked by exactly one of them.
    assert not set(one.checked) & set(two.checked)
    assert sorted(one.checked + two.checked) == sorted(p.name for p in partitions())
    assert one.lost == two.lost == []
    assert_a_full_check_changes_nothing(pg_engine)


def test_a_held_partition_is_skipped_then_taken_over_when_its_lease_expires(
    pg_engine: Engine, world: Manifest
) -> None:
    load(pg_engine, world)
    held = Partition(APPROACHES, 0, partitions()[0].of)
    crashed = Leases(pg_engine, "crashed", TTL, table=partition_table, key="name")
    assert crashed.try_acquire(held.name, now=NOW)  # and then the worker dies

    other = run(pg_engine, "other")
    assert held.name in other.skipped
    assert held.name not in other.checked
    everything_else = sorted(p.name for p in partitions() if p != held)
    assert sorted(other.checked) == everything_else
    # Before the lease expires, nobody checks it (only the operational rules are due).
    before = run(pg_engine, "other", NOW + TTL - timedelta(seconds=1))
    assert (before.checked, before.skipped) == (["operational"], [held.name])
    # After it expires, the next worker takes it over and the check is complete.
    later = NOW + TTL + timedelta(seconds=1)
    taken = run(pg_engine, "other", later)
    assert held.name in taken.checked
    assert_a_full_check_changes_nothing(pg_engine)


def test_a_worker_whose_lease_was_taken_over_commits_nothing(
    pg_engine: Engine, world: Manifest
) -> None:
    load(pg_engine, world)
    part = Partition(PROGRAMMES, 0, partitions()[-2].of)
    stalled = Leases(pg_engine, "stalled", TTL, table=partition_table, key="name")
    assert stalled.try_acquire(part.name, now=NOW)
    later = NOW + TTL + timedelta(seconds=1)
    taken = Leases(pg_engine, "taker", TTL, table=partition_table, key="name")
    assert taken.try_acquire(part.name, now=later)
    before = open_alerts(pg_engine)
    with pytest.raises(LeaseLost):
        check_partition(pg_engine, part, stalled, as_of=AS_OF, grace_days=30, at=later, clock=later)
    assert open_alerts(pg_engine) == before
    with pg_engine.connect() as connection:
        row = connection.execute(
            select(partition_table).where(partition_table.c.name == part.name)
        ).one()
    assert (row.holder, row.watermark) == ("taker", None)


def _impatient(url: str) -> Engine:
    """An engine whose lock waits fail after a few seconds instead of hanging."""
    return make_engine(url, connect_args={"options": "-c lock_timeout=5000"})


def test_a_partition_commits_its_alerts_while_another_partition_is_detecting(
    pg_engine: Engine, postgres_url: str, world: Manifest
) -> None:
    load(pg_engine, world)
    impatient = _impatient(postgres_url)
    leases = Leases(impatient, "w2", TTL, table=partition_table, key="name")
    part = Partition(PROGRAMMES, 0, partitions()[-2].of)
    assert leases.try_acquire(part.name, now=NOW)
    try:
        # another worker, mid-detection on its snapshot of the index
        with pg_engine.connect() as base, index_snapshot(base):
            result = check_partition(
                impatient, part, leases, as_of=AS_OF, grace_days=30, at=NOW, clock=NOW
            )
    finally:
        impatient.dispose()
    assert sum(result.opened.values()) > 0
    assert set(open_alerts(pg_engine).values()) <= {"DC03", "DC15", "DC16"}


def test_a_partition_writing_its_alerts_still_writes_the_event_log_alone(
    pg_engine: Engine, postgres_url: str
) -> None:
    impatient = _impatient(postgres_url)
    try:
        with pg_engine.begin() as reconciling:
            serialize_writers(reconciling)
            with (
                pytest.raises(OperationalError, match="lock timeout"),
                impatient.begin() as other,
            ):
                serialize_writers(other)
            with impatient.begin() as writer:  # an index writer does not wait for it
                share_index_log(writer)
        with impatient.begin() as other:  # and once it has committed, the next one may
            serialize_writers(other)
    finally:
        impatient.dispose()


def test_metareg_run_refuses_partitioned_checks_on_sqlite(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from metareg import log
    from metareg.cli import app

    try:
        result = CliRunner().invoke(
            app, ["--db", f"sqlite:///{tmp_path / 'index.db'}", "run", "--partitioned-checks"]
        )
    finally:
        log.configure()
    assert result.exit_code == 2, result.output
    assert "--partitioned-checks needs PostgreSQL" in result.output
