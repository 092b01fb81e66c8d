"""Iterating on a thread, ahead of the consumer: the sync engine's pages (fetched,
validated and normalized while the pages before them are written) and a file
ingest's batches (read and validated while the batch before is written).

Nothing that writes runs on the thread: the consumer commits what it takes, in order,
so what was prepared but not yet committed is simply prepared again after a crash.
SQLite releases the GIL while it steps and commits, so the two overlap.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

# Pages fetched ahead of the ones being written (memory: this many pages more). More than
# one lets pages queue up while a transaction is written, so the next one can take them
# (the sync engine commits up to GROUP_ITEMS items of waiting pages together).
PREFETCH_DEPTH = 10
_POLL_SECONDS = 0.1  # how often a blocked fetch thread looks whether it should stop
_JOIN_SECONDS = 5.0  # a stopped fetch thread may be inside a request; don't wait for long


T = TypeVar("T")


class PagePrefetcher(Generic[T]):
    """Iterates `pages` on a thread, up to `depth` items ahead of the consumer.

    Each item, the end, or the exception the iteration raised is handed over in order, so
    the consumer sees exactly what iterating `pages` itself would have shown, at the same
    point (an error after page N surfaces after page N was consumed). `close()` stops the
    thread; a generator is closed on the thread that iterates it."""

    def __init__(self, pages: Iterable[T], depth: int = PREFETCH_DEPTH) -> None:
        self._handover: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        # The thread runs in a copy of the caller's context, so log fields bound there
        # (structlog contextvars) still reach what the fetch and the parsing log.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._fetch, pages), name="sync-prefetch", daemon=True
        )
        self._thread.start()

    def _fetch(self, pages: Iterable[T]) -> None:
        iterator = iter(pages)
        try:
            for page in iterator:
                if not self._put(("page", page)):
                    return
            self._put(("end", None))
        except BaseException as error:  # handed to the consumer, raised there
            self._put(("error", error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._handover.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            kind, value = self._handover.get()
            if kind == "page":
                yield value
            elif kind == "end":
                return
            else:
                raise value

    def ready(self) -> bool:
        """Whether the next item (a page, the end or the error) is already waiting, so
        taking it will not block."""
        return not self._handover.empty()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(_JOIN_SECONDS)

    def __enter__(self) -> PagePrefetcher[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
