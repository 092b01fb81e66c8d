"""One sync of one registry: fetch a page, validate, normalize, upsert, commit the cursor.

Each page is written in ONE transaction together with the cursor after it (and the lease
renewal, when a lease is held), so a process killed at any point either committed the page
and its cursor or neither: the restart continues from the last committed cursor, and the
index's identity semantics make any page read twice "unchanged". Invalid records go to the
quarantine with their reasons; the rest of the page proceeds.

A sync returns what it changed (`SyncResult`) and commits the registry's health
(`state.py`) with its outcome; it calls nothing above it. The checks judge the round of
syncs afterwards, the operational alerts (SY01-SY03) included, from what it committed.

A cursor the registry no longer accepts (410) or a page asking for `reset` starts a full
resync from the beginning; the full listing is a pass (`passes.py`) that also withdraws
what the registry no longer lists, so it reconciles instead of duplicating.

Pages are fetched, validated and normalized ahead of the writer (`reading.py`): on a
thread, and once a sync has taken `reading.PROCESS_AFTER` records from a paged API, in a
child process that resumes from the cursor after the last page handed over. Nothing that
writes moves: pages are committed in order, in the calling thread, so a page prepared
but not yet committed is simply fetched again after a crash.

Pages that have already arrived when a transaction starts share it (up to
GROUP_ITEMS items): each page is still applied on its own, exactly as if it had its own
transaction (same pass bookkeeping, same history), and the cursor written is the one
after the last page of the transaction. A commit per page cost as much as a fifth of a
sync's time (each commit rewrites the touched index pages into the WAL). The engine
never waits for the network with a transaction open: a page still on its way starts the
next transaction, and a failed fetch surfaces after the pages before it are committed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from metareg import log
from metareg.connectors import build_connector
from metareg.connectors.base import SCOPE_RECORDS, Connector, Page
from metareg.connectors.errors import ConnectorError, CursorExpired, ErrorClass
from metareg.db.collector import collector_paused
from metareg.db.tables.index import RecordVersion
from metareg.index.approaches import store_approaches
from metareg.index.columns import Written
from metareg.index.counts import Counts
from metareg.index.quarantine import quarantine
from metareg.index.statistics import note_written
from metareg.index.writer import IndexWriter, fold_copies, shaped_for
from metareg.records.operations import Operation
from metareg.records.validate import RecordValidator
from metareg.registries import RegistryConfig, ensure_registry
from metareg.sync import holds, passes, state
from metareg.sync.reading import Prepared, PreparedPages
from metareg.sync.settings import DEFAULT_QUARANTINE_ALERT_SHARE, SyncSettings

_log = log.get_logger("metareg.sync")
_history = RecordVersion

# Called inside each page's transaction; raises to abort the page (e.g. the lease is lost).
PageGuard = Callable[[Connection], None]
Progress = Callable[[int], None]  # called with the number of items of each committed page


# Items (records) one transaction takes at most, from pages that have already arrived
# (the prefetcher holds up to PREFETCH_DEPTH pages: ten of the exchange API's largest).
# Fewer, larger commits: each rewrites the index pages it touched into the WAL.
GROUP_ITEMS = 10_000


def _items(group: list[Prepared]) -> int:
    return sum(done.received for done in group)


def _groups(
    pages: PreparedPages, limit: int | None = None
) -> Generator[list[Prepared], None, None]:
    """The prepared pages in order, in groups to commit together: a group takes the
    pages that have already arrived (never waiting for one), up to `limit` items. The
    pages before a reset, or before a failed fetch, are handed over as a group first;
    then the reset (CursorExpired) or the failure is raised."""
    limit = limit or GROUP_ITEMS
    group: list[Prepared] = []
    items = iter(pages)
    try:
        for item in items:
            if item.page.reset:
                if group:
                    done, group = group, []
                    yield done
                raise CursorExpired("the registry asked for a full resync")
            group.append(item)
            if _items(group) >= limit or not pages.ready():
                done, group = group, []
                yield done
    except Exception:
        if group:  # what arrived before the failure is committed first, as page by page
            done, group = group, []
            yield done
        raise
    finally:
        items.close()  # the reading ahead stops (its thread, its child)
    if group:
        yield group


class LeaseLost(RuntimeError):
    """Another worker holds this registry now: stop without committing."""


@dataclass
class SyncResult:
    registry_id: str
    counts: Counts = field(default_factory=Counts)
    pages: int = 0
    received: int = 0
    unknown_fields: int = 0
    full_resync: bool = False
    ok: bool = False
    error: str | None = None
    error_kind: str | None = None
    # the largest share of one page's items quarantined, and the registry's limit for it
    quarantine_share: float = 0.0
    quarantine_alert_share: float = DEFAULT_QUARANTINE_ALERT_SHARE
    started_at: datetime | None = None  # when this poll began (held withdrawals judge by it)
    held: int = 0  # withdrawals a complete listing would have made, held back (SY04)

    @property
    def quarantining(self) -> bool:
        """More of a page was quarantined than the registry's quarantine_alert_share."""
        return self.quarantine_share > self.quarantine_alert_share


class SyncEngine:
    """Syncs registries into one index; reusable across runs (holds the validator)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.validator = RecordValidator()

    def sync(
        self,
        registry: RegistryConfig,
        connector: Connector | None = None,
        *,
        guard: PageGuard | None = None,
        progress: Progress | None = None,
        now: Callable[[], datetime] | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> SyncResult:
        """Sync one registry; `connector` defaults to the one its configuration names
        (built here, so a configuration error is recorded in its health like any other)."""
        clock = now or (lambda: datetime.now(UTC))
        settings = SyncSettings.of(registry)
        result = SyncResult(registry.id, quarantine_alert_share=settings.quarantine_alert_share)
        started = clock()
        result.started_at = started
        with self.engine.begin() as connection:
            ensure_registry(connection, registry.id, registry.name, origin="config")
            state.ensure_state(connection, registry.id)
            state.mark_attempt(connection, registry.id, started, settings.staleness_limit)
        own_connector = connector is None
        lag: float | None = None
        try:
            if connector is None:
                connector = build_connector(registry, heartbeat=heartbeat)
            lag = self._run(
                registry,
                connector,
                settings,
                result,
                guard,
                progress,
                clock,
                # a connector built here can be built again in a child process
                movable=own_connector,
                heartbeat=heartbeat,
            )
            result.ok = True
        except LeaseLost as error:
            result.error, result.error_kind = str(error), "lease-lost"
            _log.warning("lease lost; sync stopped", registry=registry.id)
            return result
        except ConnectorError as error:
            result.error, result.error_kind = str(error), str(error.kind)
        except Exception as error:  # a bug or the database: recorded, never swallowed silently
            result.error, result.error_kind = f"{type(error).__name__}: {error}", "internal"
            _log.exception("sync failed", registry=registry.id)
        finally:
            if own_connector and connector is not None:
                connector.close()
        self._finish(registry.id, result, lag, clock())
        return result

    # -- the page loop -------------------------------------------------------------------

    def _run(
        self,
        registry: RegistryConfig,
        connector: Connector,
        settings: SyncSettings,
        result: SyncResult,
        guard: PageGuard | None,
        progress: Progress | None,
        clock: Callable[[], datetime],
        *,
        movable: bool = False,
        heartbeat: Callable[[], None] | None = None,
    ) -> float | None:
        registry_id = registry.id
        with self.engine.connect() as connection:
            cursor = state.read_cursor(connection, registry_id)
        lag: float | None = None
        while True:
            pages = PreparedPages(
                connector,
                cursor,
                settings.unknown_fields,
                self.validator,
                registry=registry if movable else None,
                heartbeat=heartbeat,
                shape=shaped_for(self.engine, registry_id),
            )
            groups = _groups(pages)
            try:
                while True:
                    # The collector paused from taking a group (its pages unpickled, the
                    # group before it freed) to its commit: each group's allocations and
                    # the frees of the one before then nearly cancel out, where resuming
                    # it between them started collections that walked every new record.
                    with collector_paused():
                        group = next(groups, None)
                        if group is None:
                            return lag
                        self._commit_pages(registry_id, group, result, guard, clock(), settings)
                    for done in group:
                        page = done.page
                        lag = page.lag_seconds if page.lag_seconds is not None else lag
                        for where, fields in done.unknown:
                            result.unknown_fields += 1
                            _log.info("unknown fields kept in raw", location=where, fields=fields)
                        if progress:
                            progress(done.received)
            except CursorExpired as error:
                if result.full_resync:
                    raise ConnectorError(
                        ErrorClass.CURSOR_EXPIRED, f"still refused after a full resync: {error}"
                    ) from error
                _log.warning("full resync", registry=registry_id, reason=str(error))
                result.full_resync = True
                cursor = None
            finally:
                groups.close()

    def _commit_pages(
        self,
        registry_id: str,
        group: list[Prepared],
        result: SyncResult,
        guard: PageGuard | None,
        now: datetime,
        settings: SyncSettings,
    ) -> None:
        """Write the pages of `group` in order in ONE transaction, with the cursor after
        the last of them: a crash commits all of them or none."""
        source = f"sync:{registry_id}"
        counts = Counts()
        received = quarantined = 0
        changed: Counter[str] = Counter()  # rows by table, for the planner's statistics
        lag: float | None = None
        # Each scope's pass mode, read once a transaction: only this transaction opens
        # and closes the registry's passes while it runs (the lease, or the caller's
        # one sync at a time), and `_apply_page` keeps it up to date when it does.
        modes: dict[str, str | None] = {}
        unfolded: list[Written] = []  # the pages' rows, for the copies' one fold
        with self.engine.begin() as connection:
            if guard:
                guard(connection)
            for done in group:
                page, ops, rejected = done.page, done.ops, done.rejected
                # A writer per page, as with a transaction per page: nothing it caches
                # (the latest holdings snapshot) is carried from one page to the next.
                # The copies kept at write time are folded once, at the end.
                writer = IndexWriter(connection, registry_id, source, now, fold=False)
                counts.add(
                    self._apply_page(
                        connection, writer, registry_id, page, ops, now, result, settings, modes
                    )
                )
                changed.update(writer.changed)
                unfolded.extend(writer.unfolded)
                counts.quarantined += quarantine(connection, registry_id, source, rejected, now)
                store_approaches(connection, done.approaches)
                received += done.received
                quarantined += len(rejected)
                if done.received:
                    share = min(1.0, len(rejected) / done.received)
                    result.quarantine_share = max(result.quarantine_share, share)
                lag = page.lag_seconds if page.lag_seconds is not None else lag
            fold_copies(connection, unfolded)
            state.commit_cursor(
                connection,
                registry_id,
                # Withdrawals held back (holds.py): the next poll lists from the start
                # again, so a registry that means it can repeat the very same listing.
                None if result.held else group[-1].page.cursor,
                now=now,
                received=received,
                quarantined=quarantined,
                lag_seconds=lag,
            )
        note_written(self.engine, registry_id, changed)
        result.pages += len(group)
        result.received += received
        result.counts.add(counts)

    def _apply_page(
        self,
        connection: Connection,
        writer: IndexWriter,
        registry_id: str,
        page: Page,
        ops: list[Operation],
        now: datetime,
        result: SyncResult,
        settings: SyncSettings,
        modes: dict[str, str | None] | None = None,
    ) -> Counts:
        """One page's records and pass bookkeeping, as if the page had its own transaction.
        The withdrawals a finished listing implies by absence go through the hold
        (`holds.judge`): too many of them at once are held back, not applied.
        `modes`: the pass mode of each scope as this transaction knows it (read here
        the first time a scope is met, kept up to date as passes open and close)."""
        modes = {} if modes is None else modes
        if page.pass_start:
            staged = page.scope == SCOPE_RECORDS and _holds_records(connection, registry_id)
            passes.open_pass(connection, registry_id, page.scope, now, staged=staged)
            modes[page.scope] = "staged" if staged else "tracking"
        if page.scope not in modes:
            modes[page.scope] = passes.pass_mode(connection, registry_id, page.scope)
        mode = modes[page.scope]
        counts = Counts()
        if mode != "staged":
            counts.add(writer.apply(ops))
        if mode is not None:
            passes.note_seen(connection, registry_id, page.scope, ops, staged=mode == "staged")
        if mode is not None and page.pass_end:
            final: list[Operation] = []
            if mode == "staged":
                final.extend(passes.staged_operations(connection, registry_id, page.scope))
            absent = passes.unlisted(connection, registry_id, page.scope)
            allowed = holds.judge(
                connection,
                registry_id,
                page.scope,
                absent,
                now=now,
                poll_started=result.started_at or now,
                share=settings.max_withdrawal_share,
            )
            result.held += len(absent) - len(allowed)
            final.extend(allowed)
            counts.add(writer.apply(final))
            passes.close_pass(connection, registry_id, page.scope)
            modes[page.scope] = None
        return counts

    # -- health ------------------------------------------------------------------------

    def _finish(
        self, registry_id: str, result: SyncResult, lag: float | None, now: datetime
    ) -> None:
        with self.engine.begin() as connection:
            if result.ok:
                state.mark_success(connection, registry_id, now, lag, result.quarantine_share)
            else:
                state.mark_failure(
                    connection, registry_id, result.error or "failed", result.error_kind
                )
        log_event = _log.info if result.ok else _log.warning
        log_event(
            "sync finished" if result.ok else "sync failed",
            registry=registry_id,
            pages=result.pages,
            quarantine_share=round(result.quarantine_share, 3),
            **result.counts.as_dict(),
            error=result.error,
        )


def _holds_records(connection: Connection, registry_id: str) -> bool:
    """Whether the index already has anything from this registry (then a listing from the
    beginning is a resync, and is staged)."""
    found = connection.execute(
        select(_history.c.id).where(_history.c.registry_id == registry_id).limit(1)
    ).first()
    return found is not None


def sync_registry(
    engine: Engine,
    registry: RegistryConfig,
    connector: Connector | None = None,
    *,
    guard: PageGuard | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Sync one registry now (see `SyncEngine.sync`)."""
    return SyncEngine(engine).sync(registry, connector, guard=guard, progress=progress)
