"""The quarantine: input that failed validation, kept verbatim with every reason.

Nothing invalid is ever dropped silently: it lands here, counted in the ingest
summary and in sync health (and raises SY03 from the sync side), until a person
reviews it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from metareg.db.tables.index import Quarantine
from metareg.db.upsert import upsert
from metareg.records.operations import Rejected

_quarantine = Quarantine.__table__  # type: ignore[attr-defined]


def quarantine(
    connection: Connection,
    registry_id: str,
    source: str,
    rejected: Sequence[Rejected],
    now: datetime | None = None,
) -> int:
    """Store rejected input; the same input from the same place is stored once."""
    if not rejected:
        return 0
    received = now or datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for item in rejected:
        digest = hashlib.sha256(
            "\x1f".join((registry_id, source, item.location, item.raw)).encode("utf-8", "replace")
        ).hexdigest()
        rows.append(
            {
                "fingerprint": digest,
                "registry_id": registry_id,
                "source": source[:1000],
                "location": item.location[:200],
                "raw": item.raw,
                "reasons": [problem.as_dict() for problem in item.reasons],
                "status": "unreviewed",
                "received_at": received,
            }
        )
    upsert(connection, _quarantine, rows, key=("fingerprint",), update=())
    return len(rows)
