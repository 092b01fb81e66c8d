"""The database misbehaving under a sync.

PostgreSQL: every backend connection of the sync is terminated (`pg_terminate_backend`)
again and again mid-sync; for the client that is what a server restart looks like
(connections drop). The shared local server is not really restarted: other test
sessions use it. The sync reconnects and carries on; the index is the clean run's.

SQLite: an API reader (the real app, its own engine, as the API process has) reads
continuously while the sync writes: WAL mode and the busy timeout mean no `database is
locked` error on either side, and the index is the clean run's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.simulator.world import World
from metareg.sync import engine as sync_engine
from metareg.sync.engine import SyncEngine
from metareg.web.app import create_app
from metareg.web.settings import ApiSettings
from tests.conftest import _empty_postgres
from tests.reliability.faultkit import (
    IndexImage,
    assert_same,
    image,
    registry_config,
    serving,
)

# The backends it signalled. A terminated backend can stay listed for a moment after the
# signal (it exits asynchronously), so the same pid may be signalled twice and a call may
# find nothing new: count distinct pids, not calls or signals.
TERMINATE = text(
    "SELECT pid FROM ("
    " SELECT pid, pg_terminate_backend(pid) AS signalled FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ") AS t WHERE signalled"
)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    _empty_postgres(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def test_postgres_connections_dropped_mid_sync(
    world: World,
    reference: IndexImage,
    pg_engine: Engine,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The sync commits the pages that have already arrived together, so how many pages
    # share a commit (and a connection) depends on timing; one page per commit makes
    # "after every committed page" exact.
    monkeypatch.setattr(sync_engine, "GROUP_ITEMS", 1)
    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    pages_with_items = 0
    terminated: set[int] = set()

    def drop_connections(items: int) -> None:
        """After every committed page, every connection of the sync goes away."""
        nonlocal pages_with_items
        pages_with_items += items > 0
        with admin.connect() as connection:
            terminated.update(connection.execute(TERMINATE).scalars())

    syncer = SyncEngine(pg_engine)
    with serving(world) as server:
        results = [
            syncer.sync(registry_config(server, r), progress=drop_connections)
            for r in world.registry_ids
        ]
    admin.dispose()
    failures = [(r.registry_id, r.error) for r in results if not r.ok]
    assert failures == []  # reconnected each time, and carried on
    # The fault really bit, often: each page with items was committed alone, on a new
    # backend (the previous one had been dropped), which was then dropped in turn.
    assert len(terminated) >= pages_with_items > 20, (len(terminated), pages_with_items)
    assert_same(image(pg_engine), reference)


def test_sqlite_reader_and_writer_never_lock(
    world: World, reference: IndexImage, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'index.db'}"
    writer = make_engine(url)
    migrate.upgrade(writer)
    reader = make_engine(url)  # the API process's own engine
    errors: list[str] = []
    reads = 0
    done = threading.Event()
    # After each committed page the sync waits until the reader has finished a round of
    # reads begun after it: reads and writes interleave on every page, however fast
    # either side runs (no count of reads that depends on timing).
    page_committed = threading.Event()
    read_since = threading.Event()

    def read_continuously() -> None:
        nonlocal reads
        # No public rate limit: this reader stands for many API clients at once.
        client = TestClient(create_app(reader, settings=ApiSettings(public_requests_per_minute=0)))
        while not done.is_set():
            waited_for = page_committed.is_set()
            for path in ("/v1/stats", "/v1/registries"):
                try:
                    response = client.get(path)
                except Exception as error:  # the test's verdict: any error counts
                    errors.append(f"{path}: {type(error).__name__}: {error}")
                    continue
                if response.status_code != 200:
                    errors.append(f"{path}: HTTP {response.status_code} {response.text[:200]}")
                reads += 1
            if waited_for:
                page_committed.clear()
                read_since.set()

    pages = 0

    def after_page(_: int) -> None:
        nonlocal pages
        pages += 1
        read_since.clear()
        page_committed.set()
        assert read_since.wait(30), "the reader is stuck"

    thread = threading.Thread(target=read_continuously, daemon=True)
    thread.start()
    try:
        with serving(world) as server:
            syncer = SyncEngine(writer)
            results = [
                syncer.sync(registry_config(server, r), progress=after_page)
                for r in world.registry_ids
            ]
    finally:
        done.set()
        thread.join(30)
    with writer.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert [(r.registry_id, r.error) for r in results if not r.ok] == []
    assert errors == [] and reads >= 2 * pages > 20
    assert_same(image(writer), reference)
    writer.dispose()
    reader.dispose()
