"""A sync worker: syncs (and reconciles) registries under leases, on their schedules.

`Worker.sync_one(registry_id)` is the unit of work: take the registry's lease (skip when
another worker holds it), sync page by page renewing the lease inside each page's
transaction, release. `Worker.scheduler()` puts one APScheduler job per registry (interval
or cron, with jitter; `max_instances=1` so a registry's sync never overlaps itself,
`coalesce=True` so missed runs collapse into one) plus one reconciliation job per registry.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from metareg import log
from metareg.registries import RegistryConfig, store_configured
from metareg.sync.engine import Progress, SyncEngine, SyncResult
from metareg.sync.leases import DEFAULT_TTL, Leases
from metareg.sync.settings import Schedule, SyncSettings

_log = log.get_logger("metareg.sync.worker")
MISFIRE_GRACE_SECONDS = 300


def trigger_of(schedule: Schedule) -> BaseTrigger:
    jitter = schedule.jitter_seconds or None
    if schedule.cron:
        trigger = CronTrigger.from_crontab(schedule.cron, timezone=UTC)
        trigger.jitter = jitter
        return trigger
    assert schedule.interval is not None
    return IntervalTrigger(seconds=schedule.interval.total_seconds(), jitter=jitter, timezone=UTC)


class Worker:
    def __init__(
        self,
        engine: Engine,
        registries: list[RegistryConfig],
        *,
        holder: str | None = None,
        lease_ttl: timedelta = DEFAULT_TTL,
        run_checks: bool = True,
    ) -> None:
        self.engine = engine
        self.registries = {r.id: r for r in registries}
        self.leases = Leases(engine, holder, lease_ttl)
        self.sync_engine = SyncEngine(engine, run_checks=run_checks)
        with engine.begin() as connection:
            store_configured(connection, registries)

    @property
    def holder(self) -> str:
        return self.leases.holder

    def syncable(self) -> list[str]:
        return [rid for rid, r in self.registries.items() if SyncSettings.of(r).has_connector]

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

    def reconcile_one(self, registry_id: str) -> Any:
        from metareg.sync.reconcile import reconcile_registry

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

    def add_jobs(self, scheduler: BaseScheduler) -> None:
        now = datetime.now(UTC)
        for registry_id in self.syncable():
            settings = SyncSettings.of(self.registries[registry_id])
            scheduler.add_job(
                self.sync_one,
                trigger_of(settings.schedule),
                args=[registry_id],
                id=f"sync:{registry_id}",
                name=f"sync {registry_id}",
                next_run_time=now,  # sync once at start, then on schedule
                max_instances=1,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_SECONDS,
            )
            scheduler.add_job(
                self.reconcile_one,
                trigger_of(settings.reconcile),
                args=[registry_id],
                id=f"reconcile:{registry_id}",
                name=f"reconcile {registry_id}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_SECONDS,
            )

    @staticmethod
    def executors(threads: int) -> dict[str, Any]:
        return {"default": ThreadPoolExecutor(max_workers=max(1, threads))}
