"""The one lock that orders writers of sequenced data on PostgreSQL.

Two logs are read by "everything after the last id I saw": the index's
`record_version` (incremental checks) and the alert event log (feeds, webhooks).
On PostgreSQL a transaction that took a lower id may commit after one that took a
higher id; a reader in between would move past the late row for good. So every
transaction that appends to either log takes this transaction-scoped advisory lock
first, and writers and checks take turns. SQLite has one writer at a time and needs
nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

SEQUENCE_LOCK_KEY = 0x6D657461  # "meta"


def serialize_writers(connection: Connection) -> None:
    """Hold the sequence lock until this transaction ends (no-op on SQLite)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCE_LOCK_KEY})
