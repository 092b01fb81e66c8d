"""The one lock that orders writers of sequenced data on PostgreSQL.

Two logs are read by "everything after the last id I saw": the index's
`record_version` (incremental checks) and the alert event log (feeds, webhooks).
On PostgreSQL a transaction that took a lower id may commit after one that took a
higher id; a reader in between would move past the late row for good. So every
transaction that appends to either log takes this transaction-scoped advisory lock
first, and writers and checks take turns. SQLite has one writer at a time and needs
nothing.

Partitioned checks (`metareg.checks.partitions`) read the index under the lock held
*shared* (index writers wait, other partitions' detections run alongside) and write
their alerts under `serialize_partition_writers`: the lock shared (no other writer of
either log meanwhile) and a second lock exclusive among partitions (one partition's
events at a time), so a partition's reconciliation does not wait for the other
partitions' detections. Every writer of the event log still writes alone.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

SEQUENCE_LOCK_KEY = 0x6D657461  # "meta"
PARTITION_WRITERS_KEY = 0x6D657472  # "metr": partitioned checks' alert writers, one at a time
_HELD = "metareg.partition_writers"  # connection.info: the transaction holding both


def share_sequence(connection: Connection) -> None:
    """Hold the sequence lock shared until this transaction ends: no writer of either
    log commits meanwhile; other shared holders run alongside (no-op on SQLite)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": SEQUENCE_LOCK_KEY}
        )


def serialize_partition_writers(connection: Connection) -> None:
    """Hold, until this transaction ends, the sequence lock shared and the partition
    writers' lock exclusively: this transaction is the only writer of the event log,
    while other partitions' detections (shared holders) go on. `serialize_writers`
    within it then takes nothing more (no-op on SQLite)."""
    if connection.dialect.name == "postgresql":
        share_sequence(connection)
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_WRITERS_KEY}
        )
        connection.info[_HELD] = connection.get_transaction()


def release_partition_writers(connection: Connection) -> None:
    """Forget `serialize_partition_writers`'s mark (call when its transaction ends)."""
    connection.info.pop(_HELD, None)


def serialize_writers(connection: Connection) -> None:
    """Hold the sequence lock until this transaction ends (no-op on SQLite), unless
    this transaction already writes alone (`serialize_partition_writers`)."""
    if connection.dialect.name == "postgresql":
        held = connection.info.get(_HELD)
        if held is not None and held is connection.get_transaction():
            return
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCE_LOCK_KEY})
