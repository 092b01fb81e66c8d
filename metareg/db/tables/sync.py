"""Tables of the sync side (the core `sync_state` holds cursor and health).

- `sync_lease`: which worker syncs which registry until when. On PostgreSQL the row is
  taken with `SELECT ... FOR UPDATE SKIP LOCKED`; an expired lease is free to take.
- `sync_withdrawal_hold`: withdrawals a complete listing would make that exceed the
  registry's allowed share, held back until confirmed or repeated (`sync/holds.py`).
- `sync_pass` / `sync_seen`: a complete listing in progress (a full resync, a holdings
  snapshot, a file export) and the identities it listed so far, written with each page
  so that a crash mid-listing loses nothing; when the listing ends, current records of
  its scope that it did not list are withdrawn, and the rows are cleared. A full resync
  over an index that already holds the registry is *staged*: its pages only fill
  `sync_seen` (latest operation per identity), and the net result is applied at the end,
  so replaying a feed from its beginning does not replay old states into history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from metareg.db.types import UtcDateTime


class SyncLease(SQLModel, table=True):
    __tablename__ = "sync_lease"

    registry_id: str = Field(primary_key=True, max_length=16)
    holder: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acquired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SyncSeen(SQLModel, table=True):
    __tablename__ = "sync_seen"

    registry_id: str = Field(primary_key=True, max_length=16)
    scope: str = Field(primary_key=True, max_length=40)
    record_type: str = Field(primary_key=True, max_length=16)
    uid: str = Field(primary_key=True, max_length=600)
    # Staged passes (a full resync over an index that already holds the registry) keep
    # the latest operation per identity here and apply the net result at the end.
    op: str | None = Field(default=None, max_length=8)  # upsert | withdraw
    payload: str | None = Field(default=None, sa_column=Column(Text))
    raw: str | None = Field(default=None, sa_column=Column(Text))
    location: str | None = Field(default=None, max_length=200)


class SyncPass(SQLModel, table=True):
    """A complete listing in progress for (registry, scope)."""

    __tablename__ = "sync_pass"

    registry_id: str = Field(primary_key=True, max_length=16)
    scope: str = Field(primary_key=True, max_length=40)
    started_at: datetime = Field(sa_type=UtcDateTime)
    staged: bool = False


class SyncReconciliation(SQLModel, table=True):
    """The last reconciliation of each registry: when, and what it found."""

    __tablename__ = "sync_reconciliation"

    registry_id: str = Field(primary_key=True, max_length=16)
    last_run_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    status: str | None = Field(default=None, max_length=16)  # ok | mismatch | unsupported | error
    differences: int = 0
    summary: str | None = Field(default=None, sa_column=Column(Text))


class SyncWithdrawalHold(SQLModel, table=True):
    """A complete listing's withdrawals held back (issue 16): the listing would have
    withdrawn more than the registry's allowed share of its current records of the
    scope. They are applied when an admin confirms them or when the next poll's listing
    would withdraw exactly the same records (`fingerprint`); a listing that withdraws
    less clears the hold."""

    __tablename__ = "sync_withdrawal_hold"

    registry_id: str = Field(primary_key=True, max_length=16)
    scope: str = Field(primary_key=True, max_length=40)
    withdrawals: str = Field(sa_column=Column(Text, nullable=False))  # JSON [[type, uid], ...]
    fingerprint: str = Field(max_length=64)
    withdraw_count: int = 0
    current_count: int = 0
    share_limit: float = 0.5
    held_at: datetime = Field(sa_type=UtcDateTime)
