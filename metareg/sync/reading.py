"""A sync's pages as the engine writes them: fetched, validated and normalized ahead of
the writer, in order.

Pages are prepared on a thread (`PagePrefetcher`) while the pages before them are
written. A large sync moves its reading into a child process (`ProcessPrefetcher`):
once it has taken `PROCESS_AFTER` records, the pages the thread had already prepared
are handed over, the thread stops, and a child builds the registry's connector again
from its configuration and reads on from the cursor after the last page handed over
(a connector's `pages(cursor)` resumes exactly after the page whose cursor it gave:
what a restart after a crash relies on too). Why: preparing a page (parsing, the
schema, the normal form, hashes) is Python, and a thread shares the writer's
interpreter lock; in a 1M sync the thread took a quarter of the writer's process.

Only a connector the engine built from the registry's configuration moves, and only
one that reads a paged API (`Connector.reads_in_child`): a connector handed in by a
caller is an object of this process, and a file export would be downloaded and parsed
again from its start to find the cursor. A poll that takes fewer records than
`PROCESS_AFTER` (the usual incremental one) starts no process.

In the child, a fetch that waits (a retry's back-off, a slow body) calls `beat()`,
which calls the engine's heartbeat (the lease's renewal) in this process at once; the
child logs as this process does (`log.snapshot`), and its errors are raised here, in
order, after the pages before them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from typing import Any

from metareg import log
from metareg.connectors import build_connector
from metareg.connectors.base import Connector, Page
from metareg.db.collector import collector_paused
from metareg.records.files import to_operation
from metareg.records.operations import Operation, Packed, Rejected, pack, unpack
from metareg.records.schemas import RECORD_TYPES, load_schema
from metareg.records.validate import Problem, RecordValidator
from metareg.registries import RegistryConfig
from metareg.sync.prefetch import PagePrefetcher, ProcessPrefetcher, beat

_log = log.get_logger("metareg.sync")

# Records a sync takes on the thread before the rest is read in a child process: two of
# the engine's transactions (GROUP_ITEMS), twenty pages of the exchange API's largest.
PROCESS_AFTER = 20_000


@dataclass(slots=True)
class Prepared:
    """A page, its operations and rejects, ready to be written."""

    page: Page  # without its items once it crossed from a child (`received` counts them)
    ops: list[Operation]
    rejected: list[Rejected]
    received: int  # the page's items
    approaches: list[Any]  # the provisional approaches its items met (`Item.approaches`)
    unknown: list[tuple[str, list[str]]]  # records with fields the schema does not list


def _known_fields() -> dict[str, frozenset[str]]:
    return {name: frozenset(load_schema(name).get("properties", {})) for name in RECORD_TYPES}


_KNOWN = _known_fields()


def strip_unknown(value: Any) -> tuple[Any, list[str]]:
    """A record without top-level fields the canonical schema does not list (they stay in
    the raw payload kept in history), and the names removed."""
    if not isinstance(value, dict):
        return value, []
    known = _KNOWN.get(str(value.get("record_type")))
    if known is None or known.issuperset(value):  # the usual case, decided in C
        return value, []
    extra = sorted(k for k in value if k not in known)
    return {k: v for k, v in value.items() if k in known}, extra


@collector_paused()  # a page's records: containers per item, none in a cycle
def prepare(page: Page, unknown_fields: str, validator: RecordValidator) -> Prepared:
    """The page's operations and rejects (a page asking for a reset has none: its items
    are ignored, the engine starts a full resync)."""
    ops: list[Operation] = []
    rejected: list[Rejected] = []
    unknown: list[tuple[str, list[str]]] = []
    approaches = [note for item in page.items for note in item.approaches]
    if page.reset:
        return Prepared(page, ops, rejected, len(page.items), approaches, unknown)
    for item in page.items:
        if item.problems:
            reasons = [Problem("$", problem) for problem in item.problems]
            rejected.append(Rejected(item.location, item.raw, reasons, item.origin))
            continue
        value = item.value
        if unknown_fields == "keep-raw":
            value, extra = strip_unknown(value)
            if extra:
                unknown.append((item.location, extra))
        if not isinstance(value, dict):
            rejected.append(Rejected(item.location, item.raw, [Problem("$", "not an object")]))
            continue
        outcome = to_operation(value, item.raw, item.location, validator)
        if isinstance(outcome, Rejected):
            rejected.append(replace(outcome, origin=item.origin))
        else:
            ops.append(outcome)
    return Prepared(page, ops, rejected, len(page.items), approaches, unknown)


def _on_thread(
    pages: Iterator[Page], unknown_fields: str, validator: RecordValidator
) -> Iterator[Prepared]:
    try:
        for page in pages:
            yield prepare(page, unknown_fields, validator)
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


# A prepared page as it crosses the pipe: the page without its items, its operations as
# plain tuples (`records.operations.pack`), the rest as in `Prepared`.
Crossing = tuple[Page, list[Packed], list[Rejected], int, list[Any], list[tuple[str, list[str]]]]


def read_pages(
    registry: RegistryConfig,
    cursor: str | None,
    unknown_fields: str,
    logging: log.Snapshot,
    shape: Callable[[list[Operation]], None] | None = None,
) -> Iterator[Crossing]:
    """In the child process: the registry's pages after `cursor`, prepared (and given
    to `shape`, the writer's work done ahead: `index.writer.reader_rows`)."""
    log.adopt(logging)
    connector = build_connector(registry, heartbeat=beat)
    validator = RecordValidator()
    try:
        for page in connector.pages(cursor):
            done = prepare(page, unknown_fields, validator)
            with collector_paused():
                if shape is not None:
                    shape(done.ops)
                packed = pack(done.ops)
            yield (
                replace(page, items=[]),
                packed,
                done.rejected,
                done.received,
                done.approaches,
                done.unknown,
            )
    finally:
        connector.close()


class PreparedPages:
    """The prepared pages of `connector.pages(cursor)`, in order, read ahead of the
    consumer: on a thread, then (past `PROCESS_AFTER` records, when `registry` is
    given and its connector reads a paged API) in a child process, which also calls
    `shape` on each page's operations (for the writer: `index.writer.reader_rows`).
    `ready()` says whether the next page (or the end, or the error) has already
    arrived."""

    def __init__(
        self,
        connector: Connector,
        cursor: str | None,
        unknown_fields: str,
        validator: RecordValidator,
        *,
        registry: RegistryConfig | None = None,
        heartbeat: Callable[[], None] | None = None,
        shape: Callable[[list[Operation]], None] | None = None,
    ) -> None:
        self._connector = connector
        self._cursor = cursor
        self._unknown_fields = unknown_fields
        self._validator = validator
        movable = registry is not None and type(connector).reads_in_child
        self._registry = registry if movable else None
        self._heartbeat = heartbeat
        self._shape = shape  # a picklable function: it runs in the child
        self._ahead: PagePrefetcher[Prepared] | ProcessPrefetcher[Crossing] | None = None

    def ready(self) -> bool:
        return self._ahead is not None and self._ahead.ready()

    def __iter__(self) -> Generator[Prepared, None, None]:
        pages = self._connector.pages(self._cursor)
        on_thread = PagePrefetcher(_on_thread(pages, self._unknown_fields, self._validator))
        self._ahead = on_thread
        taken, following = 0, None
        with on_thread:
            for done in on_thread:
                yield done
                taken += done.received
                following = done.page.cursor
                # (a page that leaves no cursor would send the child back to the start)
                if self._registry is not None and taken >= PROCESS_AFTER and following:
                    break
            else:
                return
            # The pages prepared already are not fetched again; after the last of them
            # the child resumes where `pages()` would (None: from the start).
            for done in on_thread.rest():
                yield done
                following = done.page.cursor
            if on_thread.ended:
                return
        assert self._registry is not None
        yield from self._in_child(self._registry, following)

    def _in_child(self, registry: RegistryConfig, cursor: str | None) -> Iterator[Prepared]:
        with ProcessPrefetcher(
            read_pages,
            registry,
            cursor,
            self._unknown_fields,
            log.snapshot(),
            self._shape,
            on_beat=self._heartbeat,
        ) as child:
            self._ahead = child
            _log.info(
                "sync reads on in a child process", registry=registry.id, pid=child.process_id
            )
            for page, packed, rejected, received, approaches, unknown in child:
                with collector_paused():  # an operation and its record per item
                    ops = unpack(packed)
                yield Prepared(page, ops, rejected, received, approaches, unknown)


__all__ = ["PROCESS_AFTER", "Prepared", "PreparedPages", "prepare", "strip_unknown"]
