"""Several pages in one transaction: the cursor stored is the one after the last page of
the transaction, a crash between two pages of it commits none of them, and the restart
ends exactly like a clean run (nothing lost, nothing doubled)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from metareg.connectors.base import Page
from metareg.connectors.errors import ConnectorError, CursorExpired, ErrorClass
from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.db.tables.index import RecordVersion
from metareg.exchange import InMemoryFeedSource, create_exchange_app
from metareg.records.canonical import normalize, record_uid
from metareg.sync import engine as sync_engine
from metareg.sync import state
from metareg.sync.engine import SyncEngine, _groups, sync_registry
from metareg.sync.prefetch import PagePrefetcher
from metareg.sync.reading import Prepared
from tests.sync.feeds import exchange_registry, populated
from tests.sync.index_state import current, history
from tests.sync.loopback import serve

ROOT = Path(__file__).resolve().parents[2]
PAGE_SIZE = 5
GROUP_ITEMS = 15  # three pages of five a transaction


# -- grouping ---------------------------------------------------------------------------


class Ready:
    """A stand-in for the prefetcher: `items`, then `error` if given; every page ready."""

    def __init__(self, items: list[Any], error: BaseException | None = None) -> None:
        self.items, self.error = items, error

    def __iter__(self) -> Iterator[Any]:
        yield from self.items
        if self.error is not None:
            raise self.error

    def ready(self) -> bool:
        return True


def _page(n: int, items: int = 5, reset: bool = False) -> Prepared:
    return Prepared(Page([], f"c{n}", reset=reset), [], [], items, [], [])


def _cursors(groups: list[list[Prepared]]) -> list[list[str | None]]:
    return [[done.page.cursor for done in group] for group in groups]


def test_groups_take_ready_pages_up_to_the_limit() -> None:
    pages = Ready([_page(n) for n in range(1, 8)])
    assert _cursors(list(_groups(pages, 15))) == [["c1", "c2", "c3"], ["c4", "c5", "c6"], ["c7"]]


def test_pages_not_yet_arrived_are_not_waited_for() -> None:
    class NotReady(Ready):
        def ready(self) -> bool:
            return False

    pages = NotReady([_page(n) for n in range(1, 4)])
    assert _cursors(list(_groups(pages, 15))) == [["c1"], ["c2"], ["c3"]]


def test_pages_before_a_failure_or_a_reset_are_handed_over_first() -> None:
    failing = Ready([_page(1), _page(2)], ConnectorError(ErrorClass.TRANSIENT, "gone"))
    handed: list[list[Any]] = []
    with pytest.raises(ConnectorError):
        for group in _groups(failing, 15):
            handed.append(group)
    assert _cursors(handed) == [["c1", "c2"]]

    resetting = Ready([_page(1), _page(2), _page(3, items=0, reset=True), _page(4)])
    handed = []
    with pytest.raises(CursorExpired):
        for group in _groups(resetting, 15):
            handed.append(group)
    assert _cursors(handed) == [["c1", "c2"]]


# -- a crash inside a multi-page transaction ------------------------------------------


def _uids_listed(source: InMemoryFeedSource, items: int) -> set[str]:
    """The identities the first `items` change items report (what history may hold)."""
    uids: set[str] = set()
    for entry in source._log[:items]:
        if entry["op"] == "upsert":
            uids.add(record_uid(normalize(entry["record"])))
    return uids


def _history_uids(engine: Engine) -> set[str]:
    table = RecordVersion
    with engine.connect() as connection:
        return {uid for (uid,) in connection.execute(select(table.c.uid))}


def _clean(url: str, tmp_path: Path) -> Engine:
    clean = make_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    migrate.upgrade(clean)
    assert sync_registry(clean, exchange_registry("IDN01", url, page_size=PAGE_SIZE)).ok
    return clean


@pytest.mark.parametrize(
    "failing_page", [2, 6]
)  # the 2nd page of the 1st group, the 3rd of the 2nd
def test_failure_between_pages_of_a_transaction_commits_none_of_them(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_page: int
) -> None:
    monkeypatch.setattr(sync_engine, "GROUP_ITEMS", GROUP_ITEMS)
    monkeypatch.setattr(PagePrefetcher, "ready", lambda self: True)
    source = populated("IDN01", records=40, seed=3)
    assert len(source._log) >= 3 * GROUP_ITEMS  # every group here is of full pages
    calls = 0
    apply_page = SyncEngine._apply_page

    def crashing(self: SyncEngine, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == failing_page:
            raise RuntimeError("crash between two pages of one transaction")
        return apply_page(self, *args)

    with serve(create_exchange_app(source)) as url:
        registry = exchange_registry("IDN01", url, page_size=PAGE_SIZE)
        monkeypatch.setattr(SyncEngine, "_apply_page", crashing)
        failed = SyncEngine(engine).sync(registry)
        assert not failed.ok and failed.error_kind == "internal"
        # Only whole groups before the failing one were committed, with their cursor.
        committed = 3 * ((failing_page - 1) // 3)
        assert failed.pages == committed
        with engine.connect() as connection:
            row = state.read_state(connection, "IDN01")
        assert row is not None
        assert row["records_received"] == committed * PAGE_SIZE
        expected_cursor = None if committed == 0 else f'{{"c":"0.{committed * PAGE_SIZE}"}}'
        assert row["cursor"] == expected_cursor
        assert _history_uids(engine) == _uids_listed(source, committed * PAGE_SIZE)

        monkeypatch.setattr(SyncEngine, "_apply_page", apply_page)
        resumed = SyncEngine(engine).sync(registry)
        assert resumed.ok
        clean = _clean(url, tmp_path)
    assert current(engine) == current(clean)
    assert history(engine) == history(clean)
    clean.dispose()


def test_sigkill_between_pages_of_a_transaction_loses_and_doubles_nothing(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    source = populated("IDN01", records=40, seed=5)
    with serve(create_exchange_app(source)) as url:
        # Killed after the 5th page: the 2nd page of the 2nd transaction (pages 4-6).
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.sync_midgroup", db_url, url, "IDN01", "5"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        assert process.stdout.readline().strip() == "mid-group"
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)

        with engine.connect() as connection:
            row = state.read_state(connection, "IDN01")
        assert row is not None
        assert row["records_received"] == 3 * PAGE_SIZE  # the first transaction only
        assert row["cursor"] == f'{{"c":"0.{3 * PAGE_SIZE}"}}'
        assert _history_uids(engine) == _uids_listed(source, 3 * PAGE_SIZE)

        assert sync_registry(engine, exchange_registry("IDN01", url, page_size=PAGE_SIZE)).ok
        clean = _clean(url, tmp_path)
    assert current(engine) == current(clean)
    assert history(engine) == history(clean)
    clean.dispose()
