"""The partitions of a partitioned check (`metareg.checks.partitions`, PostgreSQL).

`detection_partition`: one row per partition of the checks (a bucket of cooperative
approaches, a bucket of underlying programmes, the operational rules): which worker
holds its lease until when (taken with `SELECT ... FOR UPDATE SKIP LOCKED`, as
`sync_lease`), and what the last check of it judged: the `record_version` id it read up
to (`watermark`) and a digest of everything else its findings depend on (the cutoff,
the grace period, the synced registries and their `acts_for`).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from metareg.db.types import Serial, UtcDateTime


class DetectionPartition(SQLModel, table=True):
    __tablename__ = "detection_partition"

    name: str = Field(primary_key=True, max_length=40)
    holder: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acquired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    watermark: int | None = Field(default=None, sa_type=Serial)
    digest: str | None = Field(default=None, max_length=64)
    checked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
