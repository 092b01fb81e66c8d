"""Three `metareg run` workers share ten registries through leases: every registry is
synced, never by two workers at once, a killed worker's registries are taken over once its
leases expire, and the final index is the one a single worker builds."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.db.tables.index import SyncState
from metareg.db.tables.sync import SyncLease
from metareg.exchange import create_exchange_app
from metareg.registries import load_registries
from metareg.sync.worker import Worker
from tests.sync.feeds import issuance, populated
from tests.sync.index_state import current, history
from tests.sync.loopback import mounted, serve

ROOT = Path(__file__).resolve().parents[2]
REGISTRIES = [f"{party}0{n}" for party in ("JPN", "IDN", "MNG", "THA", "VNM") for n in (1, 2)]
LEASE_SECONDS = 3


def _config(folder: Path, url: str) -> Path:
    folder.mkdir()
    entries = []
    for registry_id in REGISTRIES:
        entries.append(
            f'[[registries]]\nid = "{registry_id}"\nname = "{registry_id} test"\n'
            "allow_private_network = true\nschedule = { interval_seconds = 1 }\n"
            "reconcile = { interval_hours = 24 }\n"
            f'[registries.connector]\ntype = "exchange"\nurl = "{url}/{registry_id}"\n'
            "page_size = 5\n"
        )
    (folder / "registries.toml").write_text("\n".join(entries))
    return folder


def _worker(db_url: str, config: Path, log_file: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("metareg")),
            "--db",
            db_url,
            "--config",
            str(config),
            "--log-json",
            "run",
            "--lease-seconds",
            str(LEASE_SECONDS),
            "--threads",
            "3",
            "--no-checks",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log_file.open("wb"),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _successes(engine: Engine) -> dict[str, datetime | None]:
    table = SyncState
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.registry_id, table.c.last_success_at))
        return {registry: _aware(at) for registry, at in rows}


def _live_leases(engine: Engine) -> dict[str, tuple[str, datetime]]:
    """registry -> (holder, expires_at) of every unexpired lease."""
    table = SyncLease
    now = datetime.now(UTC)
    live = {}
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.registry_id, table.c.holder, table.c.expires_at))
        for registry, holder, expires in rows:
            expires = _aware(expires)
            if holder and expires and expires > now:
                live[registry] = (holder, expires)
    return live


LEASE_LOST = "lease lost; sync stopped"


def _events(log_files: list[Path]) -> list[dict[str, Any]]:
    """The workers' "sync started/ended" JSON log events. Threads of one worker may print
    two events before either newline, so each line is decoded object by object. A sync
    that stopped because its lease was lost (a worker starved of CPU past its lease:
    another took the registry over, and the lease check in each page's transaction kept
    the starved one from committing) has `lost` on its "sync ended" event."""
    decoder = json.JSONDecoder()
    events = []
    for path in log_files:
        lost: set[str] = set()  # registries whose running sync in this worker lost its lease
        for line in path.read_text(errors="replace").splitlines():
            position = line.find("{")
            while position != -1:
                event, end = decoder.raw_decode(line, position)
                if event.get("event") == LEASE_LOST:
                    lost.add(event["registry"])
                elif event.get("event") == "sync started":
                    lost.discard(event["registry"])
                    events.append(event)
                elif event.get("event") == "sync ended":
                    events.append({**event, "lost": event["registry"] in lost})
                position = line.find("{", end)
    return events


def _intervals(events: list[dict[str, Any]], killed: str, killed_at: float) -> dict[str, list]:
    """Per registry, (start, end, holder, lost its lease) of every sync; a sync the kill
    cut short ends at the kill."""
    open_syncs: dict[tuple[str, str], float] = {}
    out: dict[str, list[tuple[float, float, str, bool]]] = {}
    for event in sorted(events, key=lambda e: e["at"]):
        key = (event["registry"], event["holder"])
        if event["event"] == "sync started":
            open_syncs[key] = event["at"]
        elif key in open_syncs:
            span = (open_syncs.pop(key), event["at"], key[1], event["lost"])
            out.setdefault(key[0], []).append(span)
    for (registry, holder), start in open_syncs.items():
        end = killed_at if holder == killed else float("inf")
        out.setdefault(registry, []).append((start, end, holder, False))
    return out


@pytest.mark.soak  # a long fault soak: CI runs it; skip with -m "not soak"
def test_three_workers_share_ten_registries(engine: Engine, db_url: str, tmp_path: Path) -> None:
    sources = {rid: populated(rid, records=50, seed=n) for n, rid in enumerate(REGISTRIES)}
    apps = {rid: create_exchange_app(source) for rid, source in sources.items()}
    with serve(mounted(apps)) as url:
        config = _config(tmp_path / "config", url)
        logs = [tmp_path / f"worker{n}.log" for n in range(3)]
        workers = [_worker(db_url, config, log) for log in logs]
        try:
            _wait(lambda: all(_successes(engine).get(r) for r in REGISTRIES), 90, "a first sync")
            # The registries keep working; then a worker dies holding a lease.
            for n, (rid, source) in enumerate(sources.items()):
                for k in range(20):
                    source.upsert(issuance(rid, 500 + k + n))
            _wait(lambda: bool(_live_leases(engine)), 30, "a worker holding a lease")
            leases = _live_leases(engine)
            victim_holder = next(iter(leases.values()))[0]
            victim_pid = int(victim_holder.split(":")[1])
            victim = next(w for w in workers if w.pid == victim_pid)
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            killed_at = time.time()
            # What the dead worker still held, read once it is dead: between the read
            # above and the kill it may have finished a sync and let that lease go
            # (another worker may then take it at once), or taken a new one.
            orphaned = {
                r: e.timestamp() for r, (h, e) in _live_leases(engine).items() if h == victim_holder
            }
            kill_moment = datetime.now(UTC)

            def taken_over() -> bool:
                successes = _successes(engine)
                return all((successes.get(r) or kill_moment) > kill_moment for r in REGISTRIES)

            _wait(taken_over, 90, "every registry synced after the kill")
            survivors = [w for w in workers if w is not victim]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)
        assert all(w.returncode == 0 for w in survivors)

        # A single worker, from scratch, against the same registries.
        single_url = f"sqlite:///{tmp_path / 'single.db'}"
        single = make_engine(single_url)
        migrate.upgrade(single)
        alone = Worker(single, load_registries(config / "registries.toml"))
        for registry_id in REGISTRIES:
            result = alone.sync_one(registry_id)
            assert result is not None and result.ok

    events = _events(logs)
    holders = {e["holder"] for e in events}
    assert len(holders) == 3  # all three workers did syncs
    intervals = _intervals(events, victim_holder, killed_at)
    assert set(intervals) == set(REGISTRIES)
    for registry_id, spans in intervals.items():
        spans.sort()
        for (_, end, holder, lost), (start, _, other, _) in itertools.pairwise(spans):
            # Never two at once, unless the first had lost its lease (then it committed
            # nothing more: the index below is the single worker's).
            assert start >= end or lost, f"{registry_id}: {holder} and {other} overlapped"
    for registry_id, expired_at in orphaned.items():
        later = [s for s in intervals[registry_id] if s[0] > killed_at]
        assert later and all(s[2] != victim_holder for s in later)
        # Taken over, and only once the dead worker's lease had expired.
        assert min(s[0] for s in later) >= expired_at

    assert current(engine) == current(single)
    assert history(engine) == history(single)
    single.dispose()


def test_a_stopping_worker_starts_no_sync_and_owes_no_checks(
    engine: Engine, tmp_path: Path
) -> None:
    """After SIGTERM (`Worker.stop`), rounds already queued end at once: no sync starts,
    no lease is taken, and the round is abandoned, so the checks are not run for it."""
    sources = {rid: populated(rid, records=5, seed=n) for n, rid in enumerate(REGISTRIES[:3])}
    apps = {rid: create_exchange_app(source) for rid, source in sources.items()}
    hooks: list[object] = []
    with serve(mounted(apps)) as url:
        config = _config(tmp_path / "config", url)
        worker = Worker(
            engine,
            [r for r in load_registries(config / "registries.toml") if r.id in sources],
            threads=2,
            after_round=hooks.append,
        )
        worker.stop()
        stopped = worker.sync_round(list(sources))
    assert stopped.abandoned and set(stopped.synced.values()) == {None}
    assert hooks == []
    with engine.connect() as connection:
        assert connection.execute(select(SyncState)).all() == []
        assert connection.execute(select(SyncLease)).all() == []


def test_a_round_takes_the_largest_registries_first(engine: Engine, tmp_path: Path) -> None:
    """Workers sharing a round each take the next free registry in the round's order: the
    registries with the most records go first, so no worker is left syncing a big one
    alone at the end. A first round (nothing known yet) keeps the configured order."""
    sizes = {REGISTRIES[0]: 3, REGISTRIES[1]: 30, REGISTRIES[2]: 12}
    sources = {rid: populated(rid, records=n, seed=1) for rid, n in sizes.items()}
    with serve(mounted({rid: create_exchange_app(s) for rid, s in sources.items()})) as url:
        config = _config(tmp_path / "config", url)
        registries = [r for r in load_registries(config / "registries.toml") if r.id in sizes]
        worker = Worker(engine, registries)
        first = worker.sync_round(list(sizes))
        assert list(first.synced) == list(sizes)
        assert all(result and result.ok for result in first.synced.values())
        again = worker.sync_round(list(sizes))
    assert list(again.synced) == [REGISTRIES[1], REGISTRIES[2], REGISTRIES[0]]


# tgkill(2), to hand a signal to one chosen thread of another process, by machine.
_TGKILL = {"x86_64": 234, "aarch64": 131}


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.uname().machine not in _TGKILL,
    reason="needs Linux's tgkill to pick the thread a signal goes to",
)
def test_a_worker_stops_on_sigterm_whichever_of_its_threads_the_kernel_hands_it_to(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A process-wide signal goes to any one of the process's threads. `metareg run`
    must stop however it lands, as `kill` and service managers send it: here SIGTERM is
    given to a thread other than the main one, which waits for it."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    sources = {rid: populated(rid, records=5, seed=n) for n, rid in enumerate(REGISTRIES[:2])}
    with serve(mounted({rid: create_exchange_app(s) for rid, s in sources.items()})) as url:
        config = _config(tmp_path / "config", url)
        log = tmp_path / "worker.log"
        worker = _worker(str(sqlite_engine.url), config, log)
        try:
            _wait(lambda: "worker started" in log.read_text(errors="replace"), 60, "start-up")
            tasks = Path(f"/proc/{worker.pid}/task")
            _wait(lambda: len(list(tasks.iterdir())) > 1, 30, "the worker's threads")
            other = next(int(t.name) for t in tasks.iterdir() if int(t.name) != worker.pid)
            assert libc.syscall(_TGKILL[os.uname().machine], worker.pid, other, signal.SIGTERM) == 0
            assert worker.wait(timeout=20) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert "worker stopped" in log.read_text(errors="replace")
