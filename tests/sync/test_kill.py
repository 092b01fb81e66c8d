"""A sync killed with SIGKILL at 20 random points inside a sync, restarted each time, ends
with exactly the records (and history) of a clean run: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.exchange import InMemoryFeedSource, create_exchange_app
from tests.sync.feeds import issuance, populated
from tests.sync.index_state import current, history
from tests.sync.loopback import serve

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
GROWTH = 25  # records the registry adds between two kills


def _start(db_url: str, url: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.sync_once", db_url, url, "IDN01"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _finish(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=120)
    return out.strip()


def _grow(source: InMemoryFeedSource, start: int, rng: random.Random) -> None:
    """The registry keeps working between kills: new issuances, corrections, withdrawals."""
    for n in range(start, start + GROWTH):
        source.upsert(issuance("IDN01", n))
        if rng.random() < 0.2:
            source.upsert(issuance("IDN01", n, action_date="2024-03-03"))
        if rng.random() < 0.05:
            source.withdraw(issuance("IDN01", n))


@pytest.mark.soak  # a long fault soak: CI runs it; skip with -m "not soak"
def test_sync_killed_at_random_points_ends_like_a_clean_run(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    rng = random.Random(20)
    source = populated("IDN01", records=GROWTH, seed=7)
    with serve(create_exchange_app(source)) as url:
        # A first, complete sync measures how long one batch of changes takes to sync.
        process = _start(db_url, url)
        started = time.monotonic()
        assert _finish(process) == "ok"
        window = time.monotonic() - started

        # Until KILLS kills have landed inside a sync: a sync that finished before its
        # kill (the machine was faster than the first sync suggested) counts for nothing.
        killed_mid_sync = attempt = 0
        while killed_mid_sync < KILLS:
            assert attempt < 10 * KILLS, "the syncs kept finishing before their kill"
            _grow(source, 1000 + attempt * GROWTH, rng)
            attempt += 1
            process = _start(db_url, url)
            time.sleep(rng.uniform(0, window))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed_mid_sync += 1
            process.communicate(timeout=60)
        assert _finish(_start(db_url, url)) == "ok"

        clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
        clean = make_engine(clean_url)
        migrate.upgrade(clean)
        assert _finish(_start(clean_url, url)) == "ok"

    assert len(current(engine)) > KILLS * GROWTH
    assert current(engine) == current(clean)
    assert history(engine) == history(clean)
    clean.dispose()
