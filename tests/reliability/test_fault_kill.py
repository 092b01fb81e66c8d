"""SIGKILL of the sync process at random points, 20 trials across the sync of all the
world's registries while the world moves on between trials, each followed by a restart:
the final index is exactly the one of a clean run on the same schedule (same rows, same
content hashes, same history). The same schedule matters: a registry publishes only its
latest holdings snapshot, so a run that syncs on other days sees other snapshots."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import random
import signal
import time
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from sqlalchemy import Engine

from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.simulator.clock import SimClock
from metareg.simulator.runner import SimulatorServer
from metareg.simulator.world import World
from tests.reliability.faultkit import (
    assert_same,
    exchange_config,
    image,
    serving,
    sync_once,
    sync_until_ok,
)

FORK = multiprocessing.get_context("fork")
TRIALS = 20  # kills, each followed by a restart


def _sync_world(db_url: str, urls: dict[str, str], ready: Connection) -> None:
    """The sync process: a fresh engine (nothing shared with the parent), then every
    registry in turn; exits 0 once all are synced."""
    engine = make_engine(db_url)
    with engine.connect():
        pass
    ready.send("ready")
    ok = all(sync_once(engine, exchange_config(r, url)).ok for r, url in urls.items())
    os._exit(0 if ok else 1)


def _start(db_url: str, server: SimulatorServer) -> multiprocessing.process.BaseProcess:
    """A forked sync process (forked, not spawned: the trials pay no interpreter start-up,
    so the SIGKILL lands inside the sync whatever the machine's load)."""
    parent, child = multiprocessing.Pipe()
    process = FORK.Process(target=_sync_world, args=(db_url, server.urls, child), daemon=True)
    process.start()
    assert parent.poll(60) and parent.recv() == "ready"
    return process


def _finish(process: multiprocessing.process.BaseProcess) -> int | None:
    process.join(120)
    return process.exitcode


@pytest.mark.soak  # a long fault soak: CI runs it; skip with -m "not soak"
def test_sync_killed_at_random_points_ends_like_a_clean_run(
    world: World, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """Each trial: the world moves on, a sync process is SIGKILLed at a random moment, and
    restarted to completion; a clean index is synced on the same schedule, never killed."""
    rng = random.Random(8)
    start, end = world.scenario.start, world.scenario.end
    step = (end - start) / TRIALS
    assert step > timedelta(days=20)
    clean = make_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    migrate.upgrade(clean)
    clock = SimClock(start, end, frozen=True)
    with serving(world, clock) as server:
        # A complete sync of a first slice of the world measures how long a sync takes.
        clock.hold(start + step)
        began = time.monotonic()
        assert _finish(_start(db_url, server)) == 0
        window = time.monotonic() - began
        sync_until_ok(clean, server, max_rounds=1)

        killed_mid_sync = 0
        for trial in range(2, TRIALS + 1):
            clock.hold(end if trial == TRIALS else start + step * trial)
            process = _start(db_url, server)
            time.sleep(rng.uniform(0, window))
            if process.is_alive():
                os.kill(process.pid, signal.SIGKILL)  # type: ignore[arg-type]
                killed_mid_sync += 1
            process.join(60)
            sync_until_ok(engine, server, max_rounds=1)  # the restart: completes at once
            sync_until_ok(clean, server, max_rounds=1)
        assert killed_mid_sync >= TRIALS // 2  # most kills really landed inside a sync
    assert image(clean).counts["action"] > 50
    assert_same(image(engine), image(clean))
    clean.dispose()
