"""Leases: several `metareg run` workers share the registries, one worker per registry.

A lease row per registry names its holder and when the lease expires. Taking it runs
`SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL: a row another worker is taking right now
is skipped, not waited for; SQLite ignores the clause and serializes writers itself) and
then a conditional UPDATE that only succeeds when the lease is free, expired or already
ours, so two workers can never both hold it. The holder renews it inside each page's
transaction (`guard`): a worker that lost its lease (it stalled past expiry and another
took over) cannot commit another page. A dead worker's lease simply expires.

The same leases share the partitions of a partitioned check among workers
(`metareg.checks.partitions`): `Leases` takes the lease table and its key column.
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

_lease: Table = SyncLease
DEFAULT_TTL = timedelta(seconds=60)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Leases:
    """Leases on the rows of `table` (its key column `key`): by default a registry's
    sync lease."""

    def __init__(
        self,
        engine: Engine,
        holder: str | None = None,
        ttl: timedelta = DEFAULT_TTL,
        *,
        table: Table = _lease,
        key: str = "registry_id",
    ):
        self.engine = engine
        self.holder = holder or worker_name()
        self.ttl = ttl
        self.table = table
        self.key = key

    def try_acquire(self, registry_id: str, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        lease, key = self.table, self.table.c[self.key]
        with self.engine.begin() as connection:
            upsert(connection, lease, [{self.key: registry_id}], key=(self.key,), update=())
            free = or_(
                lease.c.holder.is_(None),
                lease.c.expires_at < now,
                lease.c.holder == self.holder,
            )
            row = connection.execute(
                select(key).where(key == registry_id, free).with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return False
            taken = connection.execute(
                update(lease)
                .where(and_(key == registry_id, free))
                .values(holder=self.holder, expires_at=now + self.ttl, acquired_at=now)
            )
            return taken.rowcount == 1

    def renew(self, connection: Connection, registry_id: str, now: datetime | None = None) -> None:
        """Extend our lease in the caller's transaction; LeaseLost when it is not ours."""
        now = now or datetime.now(UTC)
        lease = self.table
        renewed = connection.execute(
            update(lease)
            .where(
                lease.c[self.key] == registry_id,
                lease.c.holder == self.holder,
                lease.c.expires_at >= now,
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
        lease = self.table
        with self.engine.begin() as connection:
            connection.execute(
                update(lease)
                .where(lease.c[self.key] == registry_id, lease.c.holder == self.holder)
                .values(holder=None, expires_at=None)
            )

    def holders(self) -> dict[str, str | None]:
        lease = self.table
        with self.engine.connect() as connection:
            return {
                registry_id: holder
                for registry_id, holder in connection.execute(
                    select(lease.c[self.key], lease.c.holder)
                )
            }
