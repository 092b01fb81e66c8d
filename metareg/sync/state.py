"""The committed cursor and health of each registry (core table `sync_state`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from metareg.db.tables.index import SyncState
from metareg.db.upsert import upsert

sync_state = SyncState.__table__  # type: ignore[attr-defined]


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


def mark_attempt(connection: Connection, registry_id: str, now: datetime) -> None:
    connection.execute(
        update(sync_state)
        .where(sync_state.c.registry_id == registry_id)
        .values(last_attempt_at=now)
    )


def mark_success(
    connection: Connection, registry_id: str, now: datetime, lag_seconds: float | None
) -> None:
    connection.execute(
        update(sync_state)
        .where(sync_state.c.registry_id == registry_id)
        .values(
            last_success_at=now,
            consecutive_failures=0,
            last_error=None,
            lag_seconds=0.0 if lag_seconds is None else lag_seconds,
        )
    )


def mark_failure(connection: Connection, registry_id: str, error: str) -> None:
    connection.execute(
        update(sync_state)
        .where(sync_state.c.registry_id == registry_id)
        .values(
            consecutive_failures=sync_state.c.consecutive_failures + 1,
            last_error=error[:2000],
        )
    )
