"""The partitions of a partitioned check (`metareg.checks.partitions`, PostgreSQL).

`detection_partition`: one row per partition of the checks (a bucket of cooperative
approaches, a bucket of underlying programmes, the operational rules): which worker
holds its lease until when (taken with `SELECT ... FOR UPDATE SKIP LOCKED`, as
`sync_lease`), and what the last check of it judged: the `record_version` id it read up
to (`watermark`) and a digest of everything else its findings depend on (the cutoff,
the grace period, the synced registries and their `acts_for`), and those themselves
(`judged`), so that the next check of the partition can continue from it.
"""

from __future__ import annotations

from sqlalchemy import Column, String

from metareg.db.tables.base import table
from metareg.db.types import Json, Serial, UtcDateTime

DetectionPartition = table(
    "detection_partition",
    Column("name", String(40), primary_key=True),
    Column("holder", String(200)),
    Column("expires_at", UtcDateTime),
    Column("acquired_at", UtcDateTime),
    Column("watermark", Serial),
    Column("digest", String(64)),
    Column("judged", Json),
    Column("checked_at", UtcDateTime),
)
