"""PostgreSQL really restarted (`pg_ctlcluster ... restart`) in the middle of a sync.

Pages keep being written across the restart: the pool notices dead connections
(pre-ping) and reconnects; a write that meets the server away fails that poll, its
cursor stays with the last committed page, and the next poll (as the worker's schedule
would make it) carries on. The index ends
exactly as the clean run's. Needs the local cluster's control script (root, as on the
development machines and CI); without it the test is skipped, except under CI.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from metareg.db.engine import make_engine
from metareg.simulator.world import World
from metareg.sync.engine import SyncEngine, SyncResult
from tests.conftest import IN_CI, _empty_postgres
from tests.reliability.faultkit import (
    IndexImage,
    assert_same,
    everywhere,
    image,
    registry_config,
    serving,
    with_faults,
)

START_TIME = text("SELECT pg_postmaster_start_time()")


def _cluster() -> list[str]:
    versions = (
        sorted(p.name for p in Path("/etc/postgresql").glob("*"))
        if Path("/etc/postgresql").is_dir()
        else []
    )
    tool = shutil.which("pg_ctlcluster")
    if not tool or not versions:
        if IN_CI:
            pytest.fail("CI must be able to restart the local PostgreSQL (pg_ctlcluster)")
        pytest.skip("no local PostgreSQL cluster to restart here")
    return [tool, "--skip-systemctl-redirect", versions[-1], "main", "restart"]


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    _empty_postgres(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def _start_time(engine: Engine) -> object:
    for _ in range(60):
        try:
            with engine.connect() as connection:
                return connection.execute(START_TIME).scalar_one()
        except DBAPIError:
            time.sleep(0.5)
    raise AssertionError("PostgreSQL did not come back within 30 s")


def test_postgres_restarted_mid_sync(
    world: World, reference: IndexImage, pg_engine: Engine
) -> None:
    command = _cluster()
    before = _start_time(pg_engine)
    restarting = threading.Event()
    restart: list[subprocess.CompletedProcess[bytes]] = []
    threads: list[threading.Thread] = []
    restarted_at: list[float] = []

    def restart_after_first_page(_: int) -> None:
        if restarting.is_set():
            return
        restarting.set()
        thread = threading.Thread(
            target=lambda: (
                restart.append(subprocess.run(command, capture_output=True)),
                restarted_at.append(time.monotonic()),
            ),
            daemon=True,
        )
        thread.start()
        threads.append(thread)

    syncer = SyncEngine(pg_engine)
    results: list[SyncResult] = []
    interrupted = 0  # polls that failed because the server was away (may be none)
    # Slow answers keep the sync writing pages for seconds, so the restart lands mid-sync.
    slow = with_faults(world, *everywhere(world, "slow", delay_seconds=0.25))
    with serving(slow) as server:
        for registry_id in world.registry_ids:
            for _ in range(40):  # polls, as the worker's schedule would make them
                try:
                    result = syncer.sync(
                        registry_config(server, registry_id), progress=restart_after_first_page
                    )
                except DBAPIError:  # the server was down between two writes
                    result = None
                if result is None or not result.ok:
                    interrupted += 1
                else:
                    results.append(result)
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"{registry_id} never synced after the restart")
    synced_at = time.monotonic()
    for thread in threads:
        thread.join(60)
    assert restart and restart[0].returncode == 0, restart
    assert _start_time(pg_engine) != before  # the server really restarted
    assert restarted_at[0] < synced_at  # ... while the syncs were still writing pages
    assert_same(image(pg_engine), reference)
