"""Tables of the sync side (the core `sync_state` holds cursor and health).

- `sync_lease`: which worker syncs which registry until when. On PostgreSQL the row is
  taken with `SELECT ... FOR UPDATE SKIP LOCKED`; an expired lease is free to take.
- `sync_withdrawal_hold`: withdrawals a complete listing would make that exceed the
  registry's allowed share, held back until confirmed or repeated (`sync/holds.py`).
- `sync_pass` / `sync_listed` / `sync_seen`: a complete listing in progress (a full
  resync, a holdings snapshot, a file export) and the identities it listed so far,
  written with each page so that a crash mid-listing loses nothing; when the listing
  ends, current records of its scope that it did not list are withdrawn, and the rows
  are cleared. A *tracking* pass writes each page's identities as one row per record
  type (`sync_listed`, a JSON array). A full resync over an index that already holds
  the registry is *staged*: its pages only fill `sync_seen` (latest operation per
  identity), and the net result is applied at the end, so replaying a feed from its
  beginning does not replay old states into history.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Text

from metareg.db.tables.base import table
from metareg.db.types import UtcDateTime

SyncLease = table(
    "sync_lease",
    Column("registry_id", String(16), primary_key=True),
    Column("holder", String(200)),
    Column("expires_at", UtcDateTime),
    Column("acquired_at", UtcDateTime),
)

SyncSeen = table(
    "sync_seen",
    Column("registry_id", String(16), primary_key=True),
    Column("scope", String(40), primary_key=True),
    Column("record_type", String(16), primary_key=True),
    Column("uid", String(600), primary_key=True),
    # Staged passes (a full resync over an index that already holds the registry) keep
    # the latest operation per identity here and apply the net result at the end.
    Column("op", String(8)),  # upsert | withdraw
    Column("payload", Text),
    Column("raw", Text),
    Column("location", String(200)),
)

# A tracking pass's identities, one row per page and record type (migration 0028).
SyncListed = table(
    "sync_listed",
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("registry_id", String(16), nullable=False),
    Column("scope", String(40), nullable=False),
    Column("record_type", String(16), nullable=False),
    Column("uids", Text, nullable=False),  # JSON array of the uids the page listed
    Index("ix_sync_listed_scope", "registry_id", "scope", "record_type"),
)

# A complete listing in progress for (registry, scope).
SyncPass = table(
    "sync_pass",
    Column("registry_id", String(16), primary_key=True),
    Column("scope", String(40), primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("staged", Boolean, nullable=False, default=False),
)

# The last reconciliation of each registry: when, and what it found.
SyncReconciliation = table(
    "sync_reconciliation",
    Column("registry_id", String(16), primary_key=True),
    Column("last_run_at", UtcDateTime),
    Column("status", String(16)),  # ok | mismatch | unsupported | error
    Column("differences", Integer, nullable=False, default=0),
    Column("summary", Text),
)

# A complete listing's withdrawals held back (issue 16): the listing would have
# withdrawn more than the registry's allowed share of its current records of the scope.
# They are applied when an admin confirms them or when the next poll's listing would
# withdraw exactly the same records (`fingerprint`); a listing that withdraws less
# clears the hold.
SyncWithdrawalHold = table(
    "sync_withdrawal_hold",
    Column("registry_id", String(16), primary_key=True),
    Column("scope", String(40), primary_key=True),
    Column("withdrawals", Text, nullable=False),  # JSON [[type, uid], ...]
    Column("fingerprint", String(64), nullable=False),
    Column("withdraw_count", Integer, nullable=False, default=0),
    Column("current_count", Integer, nullable=False, default=0),
    Column("share_limit", Float, nullable=False, default=0.5),
    Column("held_at", UtcDateTime, nullable=False),
)
