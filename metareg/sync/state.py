"""The committed cursor and health of each registry (core table `sync_state`), and the
readers the checks judge the operational alerts by (SY01-SY03, RULES.md).

Health is written in the sync's own transactions: the attempt (with the registry's
configured staleness limit) when a sync starts, its outcome when it ends. The checks
read it back with what else the sync side committed (the quarantine, the last
reconciliation); the sync side itself raises no alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, update

from metareg.db.tables.index import Quarantine, Registry, SyncState
from metareg.db.tables.sync import SyncReconciliation
from metareg.db.upsert import upsert
from metareg.sync.settings import DEFAULT_STALENESS_LIMIT

sync_state = SyncState
_registry = Registry
_quarantine = Quarantine
_reconciliation = SyncReconciliation


def ensure_state(connection: Connection, registry_id: str) -> None:
    upsert(
        connection,
        sync_state,
        [
            {
                "registry_id": registry_id,
                "records_received": 0,
                "records_quarantined": 0,
                "consecutive_failures": 0,
            }
        ],
        key=("registry_id",),
        update=(),
    )


def read_state(connection: Connection, registry_id: str) -> dict[str, Any] | None:
    row = (
        connection.execute(select(sync_state).where(sync_state.c.registry_id == registry_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def read_cursor(connection: Connection, registry_id: str) -> str | None:
    state = read_state(connection, registry_id)
    return state["cursor"] if state else None


def commit_cursor(
    connection: Connection,
    registry_id: str,
    cursor: str | None,
    *,
    now: datetime,
    received: int,
    quarantined: int,
    lag_seconds: float | None,
) -> None:
    """Move the cursor, in the caller's transaction (the one that wrote the page)."""
    values: dict[str, Any] = {
        "cursor": cursor,
        "cursor_updated_at": now,
        "records_received": sync_state.c.records_received + received,
        "records_quarantined": sync_state.c.records_quarantined + quarantined,
    }
    if lag_seconds is not None:
        values["lag_seconds"] = lag_seconds
    connection.execute(
        update(sync_state).where(sync_state.c.registry_id == registry_id).values(**values)
    )


def received(connection: Connection, registry_ids: list[str]) -> dict[str, int]:
    """The records each registry's syncs have received so far (the ones never synced
    are left out)."""
    rows = connection.execute(
        select(sync_state.c.registry_id, sync_state.c.records_received).where(
            sync_state.c.registry_id.in_(registry_ids)
        )
    )
    return {registry_id: int(count or 0) for registry_id, count in rows}


def mark_attempt(
    connection: Connection, registry_id: str, now: datetime, staleness_limit: timedelta
) -> None:
    connection.execute(
        update(sync_state)
        .where(sync_state.c.registry_id == registry_id)
        .values(last_attempt_at=now, staleness_limit_seconds=staleness_limit.total_seconds())
    )


def mark_success(
    connection: Connection,
    registry_id: str,
    now: datetime,
    lag_seconds: float | None,
    quarantine_share: float = 0.0,
) -> None:
    connection.execute(
        update(sync_state)
        .where(sync_state.c.registry_id == registry_id)
        .values(
            last_success_at=now,
            last_quarantine_share=quarantine_share,
            consecutive_failures=0,
            last_error=None,
            last_error_kind=None,
            lag_seconds=0.0 if lag_seconds is None else lag_seconds,
        )
    )


def mark_failure(connection: Connection, registry_id: str, error: str, kind: str | None) -> None:
    connection.execute(
        update(sync_state)
        .where(sync_state.c.registry_id == registry_id)
        .values(
            consecutive_failures=sync_state.c.consecutive_failures + 1,
            last_error=error[:2000],
            last_error_kind=kind,
        )
    )


# -- what the checks read ------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    """A synced registry's health as its last sync committed it."""

    registry_id: str
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    last_error_kind: str | None
    staleness_limit: timedelta
    # Never synced successfully: staleness counts from when it joined the index.
    registered_at: datetime | None

    def stale(self, now: datetime) -> bool:
        """RULES.md SY01: the last sync failed and there has been no successful one for
        longer than the staleness limit."""
        since = self.last_success_at or self.registered_at or now
        return self.consecutive_failures > 0 and now - since > self.staleness_limit


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def health(connection: Connection) -> list[Health]:
    """Every registry the sync side has tried to sync, by id."""
    rows = connection.execute(
        select(
            sync_state.c.registry_id,
            sync_state.c.last_success_at,
            sync_state.c.consecutive_failures,
            sync_state.c.last_error,
            sync_state.c.last_error_kind,
            sync_state.c.staleness_limit_seconds,
            _registry.c.created_at,
        )
        .select_from(sync_state.outerjoin(_registry, _registry.c.id == sync_state.c.registry_id))
        .order_by(sync_state.c.registry_id)
    )
    return [
        Health(
            registry_id,
            _aware(last_success),
            int(failures or 0),
            error,
            kind,
            DEFAULT_STALENESS_LIMIT if limit is None else timedelta(seconds=limit),
            _aware(created),
        )
        for registry_id, last_success, failures, error, kind, limit, created in rows
    ]


def unreviewed_quarantine(connection: Connection) -> dict[str, int]:
    """Per synced registry, its quarantined records no one has reviewed yet."""
    rows = connection.execute(
        select(_quarantine.c.registry_id, func.count())
        .where(
            _quarantine.c.status == "unreviewed",
            _quarantine.c.registry_id.in_(select(sync_state.c.registry_id)),
        )
        .group_by(_quarantine.c.registry_id)
    )
    return {registry_id: int(count) for registry_id, count in rows}


@dataclass(frozen=True)
class Reconciliation:
    """A registry's last reconciliation: `status` ok | mismatch | unsupported, and what
    it found (`summary`: the totals and blocks that differ)."""

    registry_id: str
    status: str | None
    summary: dict[str, Any]


def reconciliations(connection: Connection) -> list[Reconciliation]:
    rows = connection.execute(
        select(
            _reconciliation.c.registry_id, _reconciliation.c.status, _reconciliation.c.summary
        ).order_by(_reconciliation.c.registry_id)
    )
    return [
        Reconciliation(registry_id, status, orjson.loads(summary) if summary else {})
        for registry_id, status, summary in rows
    ]
