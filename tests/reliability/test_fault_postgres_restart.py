"""PostgreSQL really restarted (`pg_ctlcluster ... restart`) in the middle of a sync.

Pages keep being written across the restart: the pool notices dead connections
(pre-ping) and reconnects; a write that meets the server away fails that poll, its
cursor stays with the last committed page, and the next poll (as the worker's schedule
would make it) carries on. The index ends
exactly as the clean run's. Needs the local cluster's control script (root, as on the
development machines and CI); without it the test is skipped, except under CI. Opt-in
(METAREG_TEST_RESTART_POSTGRES=1): restarting the shared server would break every other
session using it, so `make test` runs it only under CI, alone, after the parallel run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
    image,
    registry_config,
    serving,
)

START_TIME = text("SELECT pg_postmaster_start_time()")


OPT_IN = "METAREG_TEST_RESTART_POSTGRES"


def _cluster() -> list[str]:
    if os.environ.get(OPT_IN) != "1":
        # It restarts the whole server: every other session using it (parallel test
        # workers, other checkouts on the machine) would see its connections drop.
        pytest.skip(
            f"restarts the shared PostgreSQL server: opt in with {OPT_IN}=1 "
            "(`make test` does under CI, alone, after the parallel run)"
        )
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
    # The cluster serving METAREG_TEST_POSTGRES_URL: "VERSION NAME" (default: the newest
    # version's main cluster, the local server on 5432).
    version, name = os.environ.get("METAREG_TEST_PG_CLUSTER", f"{versions[-1]} main").split()
    return [tool, "--skip-systemctl-redirect", version, name, "restart"]


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
    restart: list[subprocess.CompletedProcess[bytes]] = []
    pages_after_restart = 0

    def restart_after_first_page(_: int) -> None:
        """After the first committed page the server restarts, and the sync waits for the
        restart to finish before its next page: the restart lands mid-sync by
        construction, not by timing."""
        nonlocal pages_after_restart
        if restart:
            pages_after_restart += 1
            return
        restart.append(subprocess.run(command, capture_output=True, timeout=120))

    syncer = SyncEngine(pg_engine)
    results: list[SyncResult] = []
    with serving(world) as server:
        for registry_id in world.registry_ids:
            for _ in range(40):  # polls, as the worker's schedule would make them
                try:
                    result = syncer.sync(
                        registry_config(server, registry_id), progress=restart_after_first_page
                    )
                except DBAPIError:  # the server was still starting (a failed poll)
                    result = None
                if result is not None and result.ok:
                    results.append(result)
                    break
                time.sleep(0.5)  # the worker's poll interval, not a wait for an event
            else:
                raise AssertionError(f"{registry_id} never synced after the restart")
    assert restart and restart[0].returncode == 0, restart
    assert _start_time(pg_engine) != before  # the server really restarted
    assert pages_after_restart > 0  # ... and the syncs went on writing pages after it
    assert_same(image(pg_engine), reference)
