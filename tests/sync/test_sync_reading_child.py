"""A large sync reads the rest of its pages in a child process (`sync.reading`): the
index ends exactly as a sync read on a thread leaves it, a wait in the child renews the
lease in the parent at once, and the child's errors reach the engine after the pages
before them, as the thread's do."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine
from starlette.responses import Response

from metareg import log
from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.exchange import InMemoryFeedSource, create_exchange_app
from metareg.sync import prefetch, reading, state
from metareg.sync.engine import LeaseLost, SyncEngine, sync_registry
from metareg.sync.prefetch import PagePrefetcher, ProcessPrefetcher
from tests.sync import child_jobs
from tests.sync.feeds import exchange_registry, populated
from tests.sync.index_state import copy_as_rebuilt, current, history
from tests.sync.loopback import serve

PAGE_SIZE = 10
MOVES_AFTER = 60  # records on the thread before the child takes over (6 pages)
# A changes page past anything the thread fetched before the child took over: 6 pages
# taken, at most PREFETCH_DEPTH (10) waiting, one in flight.
LATE = 300
FAST_RETRIES = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05}


class Failing:
    """The exchange app, answering `status` (with `body`) to the first `times` requests
    for the changes after position `position` (any more requests: the app itself)."""

    def __init__(self, app: Any, position: int, status: int, times: int, body: bytes = b"") -> None:
        self.app, self.cursor, self.status, self.left, self.body = (
            app,
            f"0.{position}",
            status,
            times,
            body,
        )
        self.failed = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/changes") and self.left > 0:
            query = parse_qs(scope["query_string"].decode())
            if query.get("cursor") == [self.cursor]:
                self.left -= 1
                self.failed += 1
                kind = "application/json" if self.body else "text/plain"
                await Response(self.body, self.status, media_type=kind)(scope, receive, send)
                return
        await self.app(scope, receive, send)


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The process ids of the children a sync read in (and the move after MOVES_AFTER)."""
    made: list[int] = []

    class Recorded(ProcessPrefetcher[Any]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self.process_id)

    monkeypatch.setattr(reading, "ProcessPrefetcher", Recorded)
    monkeypatch.setattr(reading, "PROCESS_AFTER", MOVES_AFTER)
    return made


def _source() -> InMemoryFeedSource:
    source = populated("IDN01", records=400, seed=11)
    assert len(source._log) > LATE + 5 * PAGE_SIZE
    return source


def _on_a_thread(url: str, tmp_path: Path) -> Engine:
    """The same registry synced into a fresh SQLite file with every page read on the
    sync's thread."""
    clean = make_engine(f"sqlite:///{tmp_path / 'thread.db'}")
    migrate.upgrade(clean)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reading, "PROCESS_AFTER", 10**9)
        patch.setattr(reading, "ProcessPrefetcher", None)  # any use would fail
        assert sync_registry(clean, exchange_registry("IDN01", url, page_size=PAGE_SIZE)).ok
    return clean


def _received(engine: Engine) -> tuple[int, str | None]:
    with engine.connect() as connection:
        row = state.read_state(connection, "IDN01")
    assert row is not None
    return row["records_received"], row["cursor"]


def test_a_large_sync_reads_on_in_a_child_and_writes_what_a_thread_writes(
    engine: Engine, tmp_path: Path, children: list[int]
) -> None:
    source = _source()
    with serve(create_exchange_app(source)) as url:
        result = sync_registry(engine, exchange_registry("IDN01", url, page_size=PAGE_SIZE))
        assert result.ok, result.error
        assert len(children) == 1 and children[0] != os.getpid()
        clean = _on_a_thread(url, tmp_path)
    expected = len(source._log) + len(source.holdings(None, None, 10**6).items)
    assert result.received == expected
    assert _received(engine) == _received(clean)
    assert current(engine) == current(clean)
    assert history(engine) == history(clean)
    assert copy_as_rebuilt(engine)  # the rows and records the child made for the writer
    clean.dispose()


def test_a_wait_in_the_child_renews_the_lease_in_the_parent_at_once(
    engine: Engine, children: list[int]
) -> None:
    app = Failing(create_exchange_app(_source()), LATE, 503, times=2)
    beats: list[int] = []
    with serve(app) as url:
        registry = exchange_registry("IDN01", url, page_size=PAGE_SIZE, connector=FAST_RETRIES)
        result = SyncEngine(engine).sync(registry, heartbeat=lambda: beats.append(os.getpid()))
    assert result.ok, result.error
    assert len(children) == 1 and app.failed == 2
    assert beats == [os.getpid(), os.getpid()]  # one before each wait, called here


def test_a_lease_lost_during_a_wait_in_the_child_stops_the_sync(
    engine: Engine, children: list[int]
) -> None:
    app = Failing(create_exchange_app(_source()), LATE, 503, times=1)

    def lost() -> None:
        raise LeaseLost("another worker holds IDN01 now")

    with serve(app) as url:
        registry = exchange_registry("IDN01", url, page_size=PAGE_SIZE, connector=FAST_RETRIES)
        result = SyncEngine(engine).sync(registry, heartbeat=lost)
    assert len(children) == 1
    assert not result.ok and result.error_kind == "lease-lost"
    received, cursor = _received(engine)
    assert received == LATE and cursor == f'{{"c":"0.{LATE}"}}'  # the pages before the wait


@pytest.mark.parametrize(
    ("status", "body", "kind", "says"),
    [
        (200, b'{"items": 3}', "malformed", "page has no 'items' list"),
        (503, b"", "transient", "HTTP 503"),  # after its retries
    ],
)
def test_an_error_in_the_child_comes_after_the_pages_before_it(
    engine: Engine,
    tmp_path: Path,
    children: list[int],
    status: int,
    body: bytes,
    kind: str,
    says: str,
) -> None:
    source = _source()
    app = Failing(create_exchange_app(source), LATE, status, times=10**6, body=body)
    with serve(app) as url:
        registry = exchange_registry("IDN01", url, page_size=PAGE_SIZE, connector=FAST_RETRIES)
        failed = sync_registry(engine, registry)
        assert len(children) == 1
        assert not failed.ok and failed.error_kind == kind
        assert says in (failed.error or "") and "/changes" in (failed.error or "")
        assert _received(engine)[0] == LATE  # every page before the broken one
        app.left = 0  # the registry mends its page: the next poll goes on from there
        assert sync_registry(engine, registry).ok
        clean = _on_a_thread(url, tmp_path)
    assert current(engine) == current(clean)
    assert history(engine) == history(clean)
    assert copy_as_rebuilt(engine)  # the rows and records the child made for the writer
    clean.dispose()


def test_a_poll_of_fewer_records_starts_no_process(engine: Engine, children: list[int]) -> None:
    small = populated("IDN01", records=20, seed=11)
    assert len(small._log) + len(small.holdings(None, None, 10**6).items) < MOVES_AFTER
    with serve(create_exchange_app(small)) as url:
        assert sync_registry(engine, exchange_registry("IDN01", url, page_size=PAGE_SIZE)).ok
    assert children == []


def test_a_connector_handed_in_is_never_moved(engine: Engine, children: list[int]) -> None:
    from metareg.connectors import build_connector

    with serve(create_exchange_app(_source())) as url:
        registry = exchange_registry("IDN01", url, page_size=PAGE_SIZE)
        connector = build_connector(registry)
        try:
            assert SyncEngine(engine).sync(registry, connector).ok
        finally:
            connector.close()
    assert children == []


def test_the_rest_of_a_stopped_prefetcher_is_what_it_had_handed_over() -> None:
    with PagePrefetcher(iter(range(1, 6)), depth=10) as pages:
        iterator = iter(pages)
        assert next(iterator) == 1
        while not pages.ready() or pages._handover.qsize() < 5:  # 2-5 and the end
            pass
        assert list(pages.rest()) == [2, 3, 4, 5] and pages.ended
    endless = (n for n in range(10**9))
    with PagePrefetcher(endless, depth=3) as pages:
        iterator = iter(pages)
        assert next(iterator) == 0
        rest = list(pages.rest())
        assert rest == list(range(1, len(rest) + 1)) and len(rest) <= 3 and not pages.ended


def test_the_child_logs_as_the_parent_does(capfd: pytest.CaptureFixture[str]) -> None:
    """The child logs with the parent's settings, secrets and bound fields, and a kept
    child's next job does not carry the fields the job before it was given."""
    import structlog

    secret = "tok-7f3a9c51e2"
    log.configure(json_logs=True)
    log.register_secret(secret)
    structlog.contextvars.bind_contextvars(registry="IDN01")
    prefetch._end_idle_children()  # a fresh child, its stderr the one captured here
    try:
        capfd.readouterr()
        with ProcessPrefetcher(child_jobs.log_as_parent, log.snapshot(), secret) as child:
            assert list(child) == ["logged"]
        structlog.contextvars.unbind_contextvars("registry")
        with ProcessPrefetcher(child_jobs.log_as_parent, log.snapshot(), secret) as again:
            assert list(again) == ["logged"]
        assert again.process_id == child.process_id  # the same child, kept
    finally:
        structlog.contextvars.unbind_contextvars("registry")
        log.configure()
    err = capfd.readouterr().err
    first, second = [line for line in err.splitlines() if "child speaks" in line]
    assert '"registry": "IDN01"' in first and '"token": "***"' in first and secret not in err
    assert "registry" not in second and '"token": "***"' in second
