"""Leases: several `metareg run` workers share the registries, one worker per registry.

A lease row per registry names its holder and when the lease expires. Taking it runs
`SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL: a row another worker is taking right now
is skipped, not waited for; SQLite ignores the clause and serializes writers itself) and
then a conditional UPDATE that only succeeds when the lease is free, expired or already
ours, so two workers can never both hold it. The holder renews it inside each page's
transaction (`guard`): a worker that lost its lease (it stalled past expiry and another
took over) cannot commit another page. A dead worker's lease simply expires.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, Table, and_, or_, select, update

from metareg.db.tables.sync import SyncLease
from metareg.db.upsert import upsert
from metareg.sync.engine import LeaseLost, PageGuard

_lease: Table = SyncLease.__table__  # type: ignore[attr-defined]
DEFAULT_TTL = timedelta(seconds=60)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Leases:
    def __init__(self, engine: Engine, holder: str | None = None, ttl: timedelta = DEFAULT_TTL):
        self.engine = engine
        self.holder = holder or worker_name()
        self.ttl = ttl

    def try_acquire(self, registry_id: str, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        with self.engine.begin() as connection:
            upsert(
                connection,
                _lease,
                [{"registry_id": registry_id}],
                key=("registry_id",),
                update=(),
            )
            free = or_(
                _lease.c.holder.is_(None),
                _lease.c.expires_at < now,
                _lease.c.holder == self.holder,
            )
            row = connection.execute(
                select(_lease.c.registry_id)
                .where(_lease.c.registry_id == registry_id, free)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return False
            taken = connection.execute(
                update(_lease)
                .where(and_(_lease.c.registry_id == registry_id, free))
                .values(holder=self.holder, expires_at=now + self.ttl, acquired_at=now)
            )
            return taken.rowcount == 1

    def renew(self, connection: Connection, registry_id: str) -> None:
        """Extend our lease in the caller's transaction; LeaseLost when it is not ours."""
        now = datetime.now(UTC)
        renewed = connection.execute(
            update(_lease)
            .where(
                _lease.c.registry_id == registry_id,
                _lease.c.holder == self.holder,
                _lease.c.expires_at >= now,
            )
            .values(expires_at=now + self.ttl)
        )
        if renewed.rowcount != 1:
            raise LeaseLost(f"{self.holder} no longer holds the lease on {registry_id}")

    def guard(self, registry_id: str) -> PageGuard:
        """A page guard for the sync engine: renew the lease with every page."""
        return lambda connection: self.renew(connection, registry_id)

    def heartbeat(self, registry_id: str) -> None:
        """Renew outside a page (while waiting on retries)."""
        with self.engine.begin() as connection:
            self.renew(connection, registry_id)

    def release(self, registry_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(_lease)
                .where(_lease.c.registry_id == registry_id, _lease.c.holder == self.holder)
                .values(holder=None, expires_at=None)
            )

    def holders(self) -> dict[str, str | None]:
        with self.engine.connect() as connection:
            return {
                registry_id: holder
                for registry_id, holder in connection.execute(
                    select(_lease.c.registry_id, _lease.c.holder)
                )
            }
