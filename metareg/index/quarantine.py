"""The quarantine: input that failed validation, kept verbatim with every reason.

Nothing invalid is ever dropped silently: it lands here, counted in the ingest
summary and in sync health (and raises SY03 from the sync side), until a person
reviews it: `dismiss` marks it reviewed with a note (who, when); `mark_reprocessed`
records that the current mapping now takes it (its records are then in the index).
Either way the row stays, with its reasons, as the history of what was refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from metareg.db.tables.index import Quarantine
from metareg.db.upsert import upsert
from metareg.records.operations import Rejected

_quarantine = Quarantine


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
                "origin": dict(item.origin) if item.origin is not None else None,
            }
        )
    upsert(connection, _quarantine, rows, key=("fingerprint",), update=())
    return len(rows)


UNREVIEWED = "unreviewed"
REVIEWED = "reviewed"
REPROCESSED = "reprocessed"


def dismiss(
    connection: Connection,
    ids: Sequence[int],
    note: str,
    who: str,
    now: datetime | None = None,
) -> int:
    """Mark unreviewed rows reviewed, with the reviewer's note; the number marked."""
    if not ids:
        return 0
    result = connection.execute(
        update(_quarantine)
        .where(_quarantine.c.id.in_(list(ids)), _quarantine.c.status == UNREVIEWED)
        .values(
            status=REVIEWED,
            note=note,
            reviewed_by=who[:200],
            reviewed_at=now or datetime.now(UTC),
        )
    )
    return int(result.rowcount or 0)


def mark_reprocessed(
    connection: Connection,
    quarantine_id: int,
    who: str,
    note: str = "accepted by the current mapping",
    now: datetime | None = None,
) -> None:
    """The row now maps and validates (its records went into the index), or the current
    mapping skips it (`note` says why)."""
    connection.execute(
        update(_quarantine)
        .where(_quarantine.c.id == quarantine_id)
        .values(
            status=REPROCESSED,
            note=f"reprocessed: {note}",
            reviewed_by=who[:200],
            reviewed_at=now or datetime.now(UTC),
        )
    )


def update_reasons(connection: Connection, quarantine_id: int, reasons: Sequence[Any]) -> None:
    """The reasons the current mapping gives for a row it still refuses."""
    connection.execute(
        update(_quarantine)
        .where(_quarantine.c.id == quarantine_id)
        .values(reasons=[problem.as_dict() for problem in reasons])
    )


def entries_to_reprocess(
    connection: Connection, ids: Sequence[int] | None = None, registry_id: str | None = None
) -> list[dict[str, Any]]:
    """Unreviewed entries (all, or those of `ids` / of a registry) with what reprocessing
    needs: the origin and the raw input."""
    statement = select(_quarantine).where(_quarantine.c.status == "unreviewed")
    if ids:
        statement = statement.where(_quarantine.c.id.in_(list(ids)))
    if registry_id is not None:
        statement = statement.where(_quarantine.c.registry_id == registry_id)
    return [
        dict(row) for row in connection.execute(statement.order_by(_quarantine.c.id)).mappings()
    ]
