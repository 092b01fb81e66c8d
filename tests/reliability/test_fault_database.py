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
    sync_until_ok,
)

TERMINATE = text(
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    _empty_postgres(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def test_postgres_connections_dropped_mid_sync(
    world: World, reference: IndexImage, pg_engine: Engine, postgres_url: str
) -> None:
    admin = make_engine(postgres_url, isolation_level="AUTOCOMMIT")
    terminated: list[int] = []

    def drop_connections(_: int) -> None:
        """After every committed page, every connection of the sync goes away."""
        with admin.connect() as connection:
            terminated.append(int(connection.execute(TERMINATE).scalar_one()))

    syncer = SyncEngine(pg_engine)
    with serving(world) as server:
        results = [
            syncer.sync(registry_config(server, r), progress=drop_connections)
            for r in world.registry_ids
        ]
    admin.dispose()
    failures = [(r.registry_id, r.error) for r in results if not r.ok]
    assert failures == []  # reconnected each time, and carried on
    assert sum(terminated) >= len(terminated) > 20  # connections really dropped, often
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

    def read_continuously() -> None:
        nonlocal reads
        # No public rate limit: this reader stands for many API clients at once.
        client = TestClient(create_app(reader, settings=ApiSettings(public_requests_per_minute=0)))
        while not done.is_set():
            for path in ("/v1/stats", "/v1/registries"):
                try:
                    response = client.get(path)
                except Exception as error:  # the test's verdict: any error counts
                    errors.append(f"{path}: {type(error).__name__}: {error}")
                    continue
                if response.status_code != 200:
                    errors.append(f"{path}: HTTP {response.status_code} {response.text[:200]}")
                reads += 1

    thread = threading.Thread(target=read_continuously, daemon=True)
    thread.start()
    try:
        with serving(world) as server:
            results = sync_until_ok(writer, server, max_rounds=1)
    finally:
        done.set()
        thread.join(30)
    with writer.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert all(r.ok for r in results)
    assert errors == [] and reads > 20
    assert_same(image(writer), reference)
    writer.dispose()
    reader.dispose()
