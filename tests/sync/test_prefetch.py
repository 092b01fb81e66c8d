"""The sync engine's page prefetcher: fetching runs ahead on a thread, but the engine
sees exactly the sequence (and the failure, at the same point) a plain loop would."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from metareg.connectors.errors import ConnectorError, ErrorClass
from metareg.sync.prefetch import PREFETCH_DEPTH, PagePrefetcher


class Source:
    """Pages 1..count, then optionally a failure; records what was produced and when
    the generator was closed, and on which thread."""

    def __init__(self, count: int, fail: bool = False) -> None:
        self.count = count
        self.fail = fail
        self.produced: list[int] = []
        self.closed_on: str | None = None

    def pages(self) -> Iterator[int]:
        try:
            for n in range(1, self.count + 1):
                self.produced.append(n)
                yield n
            if self.fail:
                raise ConnectorError(ErrorClass.TRANSIENT, "registry went away")
        finally:
            self.closed_on = threading.current_thread().name


def test_pages_arrive_in_order_and_the_failure_after_the_last_good_page() -> None:
    source = Source(5, fail=True)
    seen: list[int] = []
    with PagePrefetcher(source.pages()) as pages, pytest.raises(ConnectorError) as raised:
        for page in pages:
            seen.append(page)
    assert seen == [1, 2, 3, 4, 5]  # every good page was handed over before the error
    assert "registry went away" in str(raised.value)


def test_reads_ahead_only_by_its_depth() -> None:
    source = Source(50)
    with PagePrefetcher(source.pages(), depth=1) as pages:
        iterator = iter(pages)
        assert next(iterator) == 1
        time.sleep(0.3)  # plenty of time to run ahead, if it would
        # one page taken, one waiting in the handover, one fetched and blocked
        assert len(source.produced) <= 3
        assert next(iterator) == 2


def test_stopping_early_closes_the_source_on_its_own_thread() -> None:
    source = Source(50)
    with PagePrefetcher(source.pages(), depth=PREFETCH_DEPTH) as pages:
        for page in pages:
            if page == 2:
                break
    assert source.closed_on == "sync-prefetch"
    # two taken, `depth` waiting in the handover, one fetched and blocked
    assert len(source.produced) <= 2 + PREFETCH_DEPTH + 1
