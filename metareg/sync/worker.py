"""A sync worker: syncs (and reconciles) registries under leases, in rounds, on schedules.

`Worker.sync_one(registry_id)` is the unit of work: take the registry's lease (skip when
another worker holds it), sync page by page renewing the lease inside each page's
transaction, release.

Work is done in rounds (`Worker.round()`): the syncs of a round, then, once, the worker's
`after_round` hook (the CLI passes the checks, `run_checks`), so the checks judge the
round as a whole and never a registry half-way through it. The hook gets the index's
engine and runs in its own transactions, after every sync of the round has committed.
When rounds overlap (two schedules fire together), the hook runs once, after the last
of them ends.

A round takes its registries largest first (by the records their syncs have received
so far; the configured order among equals, and for registries never synced). Workers
running the same round each take the next registry whose lease is free, so the big ones
are shared out first and the small ones fill in at the end, instead of one worker
syncing the last big registry alone while the others are done.

`Worker.add_jobs(scheduler)` puts one APScheduler job per schedule: the registries that
share a schedule (interval or cron, with jitter) are synced together as one round, up to
`threads` at once; `max_instances=1` so a round, and with it each registry's sync, never
overlaps itself, `coalesce=True` so missed runs collapse into one. Each registry's
reconciliation is a job, and a round, of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from metareg import log
from metareg.registries import RegistryConfig, store_configured
from metareg.sync.engine import Progress, SyncEngine, SyncResult
from metareg.sync.leases import DEFAULT_TTL, Leases
from metareg.sync.reconcile import ReconcileReport, reconcile_registry
from metareg.sync.settings import Schedule, SyncSettings
from metareg.sync.state import received

_log = log.get_logger("metareg.sync.worker")
MISFIRE_GRACE_SECONDS = 300

# Called once after each round with the index's engine; what it returns is kept on the
# round (the checks' summary).
RoundHook = Callable[[Engine], Any]


def trigger_of(schedule: Schedule) -> BaseTrigger:
    jitter = schedule.jitter_seconds or None
    if schedule.cron:
        trigger = CronTrigger.from_crontab(schedule.cron, timezone=UTC)
        trigger.jitter = jitter
        return trigger
    assert schedule.interval is not None
    return IntervalTrigger(seconds=schedule.interval.total_seconds(), jitter=jitter, timezone=UTC)


@dataclass
class Round:
    """What one round did: each registry's sync (None: another worker holds its lease)
    and reconciliation, and what the after-round hook returned when it ran after it."""

    worker: Worker = field(repr=False)
    synced: dict[str, SyncResult | None] = field(default_factory=dict)
    reconciled: dict[str, ReconcileReport | None] = field(default_factory=dict)
    after: Any = None
    abandoned: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sync(self, registry_id: str, progress: Progress | None = None) -> SyncResult | None:
        if self.worker.stopping:  # a stopping worker starts no sync; the round is not done
            self.abandon()
            result = None
        else:
            result = self.worker.sync_one(registry_id, progress)
        with self._lock:
            self.synced[registry_id] = result
        return result

    def reconcile(self, registry_id: str) -> ReconcileReport | None:
        if self.worker.stopping:
            self.abandon()
            report = None
        else:
            report = self.worker.reconcile_one(registry_id)
        with self._lock:
            self.reconciled[registry_id] = report
        return report

    def abandon(self) -> None:
        """End this round incomplete: it does not call the after-round hook."""
        self.abandoned = True


class Worker:
    def __init__(
        self,
        engine: Engine,
        registries: list[RegistryConfig],
        *,
        holder: str | None = None,
        lease_ttl: timedelta = DEFAULT_TTL,
        threads: int = 1,
        after_round: RoundHook | None = None,
    ) -> None:
        self.engine = engine
        self.registries = {r.id: r for r in registries}
        self.leases = Leases(engine, holder, lease_ttl)
        self.sync_engine = SyncEngine(engine)
        self.threads = max(1, threads)
        self.after_round = after_round
        self._rounds_lock = threading.Lock()
        self._open_rounds = 0
        self._hook_owed = False
        self._hook_lock = threading.Lock()  # one hook at a time
        self._stopping = threading.Event()
        with engine.begin() as connection:
            store_configured(connection, registries)

    def stop(self) -> None:
        """Start no more syncs or reconciliations: those under way finish (each commits
        its records with its sync state), the rounds they belong to end abandoned (no
        after-round hook: the next worker's checks pick the changes up)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def holder(self) -> str:
        return self.leases.holder

    def syncable(self) -> list[str]:
        return [rid for rid, r in self.registries.items() if SyncSettings.of(r).has_connector]

    # -- rounds --------------------------------------------------------------------------

    @contextmanager
    def round(self) -> Iterator[Round]:
        """A round: sync (and reconcile) through the yielded `Round`; when the block ends
        (not abandoned, no exception) and no other round is open, the hook runs."""
        current = Round(self)
        with self._rounds_lock:
            self._open_rounds += 1
        try:
            yield current
        except BaseException:
            self._close_round(completed=False)
            raise
        if self._close_round(completed=not current.abandoned):
            current.after = self._run_hook()

    def _close_round(self, *, completed: bool) -> bool:
        """Whether the hook is due now: a completed round owes it, and it is paid when
        the last open round closes."""
        with self._rounds_lock:
            self._open_rounds -= 1
            self._hook_owed |= completed and self.after_round is not None
            due = self._hook_owed and self._open_rounds == 0
            if due:
                self._hook_owed = False
            return due

    def _run_hook(self) -> Any:
        assert self.after_round is not None
        with self._hook_lock:
            try:
                return self.after_round(self.engine)
            except Exception:  # logged; the next round runs it again
                _log.exception("after-round hook failed")
                return None

    def claim_order(self, registry_ids: list[str]) -> list[str]:
        """The registries in the order a round takes them: the most records received
        first; the given order among equals (a stable sort)."""
        with self.engine.connect() as connection:
            sizes = received(connection, registry_ids)
        return sorted(registry_ids, key=lambda registry_id: -sizes.get(registry_id, 0))

    def sync_round(self, registry_ids: list[str]) -> Round:
        """Sync the registries as one round, largest first (`claim_order`), up to
        `threads` at once, then the hook."""
        registry_ids = self.claim_order(registry_ids)
        with self.round() as current:
            if self.threads == 1 or len(registry_ids) == 1:
                for registry_id in registry_ids:
                    current.sync(registry_id)
            else:
                workers = min(self.threads, len(registry_ids))
                with ThreadPoolExecutor(workers, thread_name_prefix="sync") as pool:
                    list(pool.map(current.sync, registry_ids))
        return current

    def reconcile_round(self, registry_id: str) -> Round:
        with self.round() as current:
            current.reconcile(registry_id)
        return current

    # -- one registry ----------------------------------------------------------------------

    def sync_one(self, registry_id: str, progress: Progress | None = None) -> SyncResult | None:
        """Sync one registry if its lease is free; None when another worker has it."""
        registry = self.registries[registry_id]
        if not self.leases.try_acquire(registry_id):
            _log.debug("lease held elsewhere", registry=registry_id)
            return None
        _log.info("sync started", registry=registry_id, holder=self.holder, at=time.time())
        try:
            return self.sync_engine.sync(
                registry,
                guard=self.leases.guard(registry_id),
                progress=progress,
                heartbeat=lambda: self.leases.heartbeat(registry_id),
            )
        except Exception:  # the engine records sync failures; this is the database itself
            _log.exception("sync could not run", registry=registry_id)
            return None
        finally:
            _log.info("sync ended", registry=registry_id, holder=self.holder, at=time.time())
            self.leases.release(registry_id)

    def reconcile_one(self, registry_id: str) -> ReconcileReport | None:
        registry = self.registries[registry_id]
        if not self.leases.try_acquire(registry_id):
            return None
        try:
            return reconcile_registry(self.engine, registry)
        except Exception:
            _log.exception("reconciliation failed", registry=registry_id)
            return None
        finally:
            self.leases.release(registry_id)

    # -- the schedule ----------------------------------------------------------------------

    def add_jobs(self, scheduler: BaseScheduler) -> None:
        now = datetime.now(UTC)
        rounds: dict[Schedule, list[str]] = {}
        for registry_id in self.syncable():
            settings = SyncSettings.of(self.registries[registry_id])
            rounds.setdefault(settings.schedule, []).append(registry_id)
            scheduler.add_job(
                self.reconcile_round,
                trigger_of(settings.reconcile),
                args=[registry_id],
                id=f"reconcile:{registry_id}",
                name=f"reconcile {registry_id}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_SECONDS,
            )
        for schedule, registry_ids in rounds.items():
            scheduler.add_job(
                self.sync_round,
                trigger_of(schedule),
                args=[registry_ids],
                id=f"sync:{'+'.join(registry_ids)}",
                name=f"sync {', '.join(registry_ids)}",
                next_run_time=now,  # sync once at start, then on schedule
                max_instances=1,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_SECONDS,
            )

    @staticmethod
    def executors(threads: int) -> dict[str, Any]:
        return {"default": JobExecutor(max_workers=max(1, threads))}
