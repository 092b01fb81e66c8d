"""The quarantine as people review it: what `metareg quarantine list|show`, `/v1/quarantine`
and the dashboard's quarantine page read. Each entry with its registry, source (the file
or `sync:REGISTRY`), location in it (line, sheet row, page row), the input as received,
every reason (the rule that failed and why), its review status and note.

The write side (dismiss, reprocess) is `metareg.index.quarantine` and
`metareg.sync.reprocess`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from metareg.checks.operational import judge_operational
from metareg.checks.runner import run_checks
from metareg.db.tables.index import Quarantine
from metareg.index.quarantine import dismiss
from metareg.sync.reprocess import ReprocessReport, reprocess

_quarantine = Quarantine

STATUSES = ("unreviewed", "reviewed", "reprocessed")
MAX_LIMIT = 1000


def _entry(row: Any, full: bool) -> dict[str, Any]:
    origin = row["origin"] or {}
    entry = {
        "id": row["id"],
        "registry_id": row["registry_id"],
        "source": row["source"],
        "location": row["location"],
        "reasons": list(row["reasons"] or []),
        "status": row["status"],
        "received_at": row["received_at"].isoformat() if row["received_at"] else None,
        "profile": origin.get("profile"),
        "reprocessable": bool(origin.get("profile")),
        "reviewed_by": row["reviewed_by"],
        "reviewed_at": row["reviewed_at"].isoformat() if row["reviewed_at"] else None,
        "note": row["note"],
    }
    if full:
        entry["raw"] = row["raw"]
    return entry


def list_quarantine(
    connection: Connection,
    *,
    status: str | None = "unreviewed",
    registry_id: str | None = None,
    source: str | None = None,
    limit: int = 100,
    after_id: int = 0,
) -> list[dict[str, Any]]:
    """Entries in id order (oldest first), `after_id` for the next page."""
    statement = select(_quarantine).where(_quarantine.c.id > after_id)
    if status is not None:
        statement = statement.where(_quarantine.c.status == status)
    if registry_id is not None:
        statement = statement.where(_quarantine.c.registry_id == registry_id)
    if source is not None:
        statement = statement.where(_quarantine.c.source == source)
    statement = statement.order_by(_quarantine.c.id).limit(max(1, min(limit, MAX_LIMIT)))
    return [_entry(row, full=False) for row in connection.execute(statement).mappings()]


def show_quarantine(connection: Connection, quarantine_id: int) -> dict[str, Any] | None:
    """One entry with its input exactly as received."""
    row = (
        connection.execute(select(_quarantine).where(_quarantine.c.id == quarantine_id))
        .mappings()
        .first()
    )
    return _entry(row, full=True) if row else None


def quarantine_counts(connection: Connection) -> dict[str, dict[str, int]]:
    """registry -> status -> entries."""
    out: dict[str, dict[str, int]] = {}
    statement = select(_quarantine.c.registry_id, _quarantine.c.status, func.count()).group_by(
        _quarantine.c.registry_id, _quarantine.c.status
    )
    for registry_id, status, count in connection.execute(statement):
        out.setdefault(registry_id, {})[status] = int(count)
    return out


# -- the review actions (their writes are metareg.index.quarantine / sync.reprocess) -----


class QuarantineError(LookupError):
    """An entry that is not there, or not awaiting review."""


def dismiss_entries(engine: Engine, ids: Sequence[int], note: str, who: str) -> int:
    """Mark unreviewed entries reviewed with the note; SY03 is judged again in the same
    transaction (resolved when none of the registry's entries remain unreviewed)."""
    if not note.strip():
        raise QuarantineError("a dismissal needs a note (what was checked or decided)")
    with engine.begin() as connection:
        missing = [i for i in ids if show_quarantine(connection, i) is None]
        if missing:
            raise QuarantineError(f"no quarantine entry {', '.join(map(str, missing))}")
        count = dismiss(connection, ids, note.strip(), who)
        judge_operational(connection, datetime.now(UTC))
    return count


def reprocess_entries(
    engine: Engine,
    ids: Sequence[int] | None,
    registry_id: str | None,
    who: str,
    config_dir: Path | None = None,
) -> ReprocessReport:
    """Map the unreviewed entries again with the current profiles; when some went into
    the index, the checks run (as after a sync round), which also judges SY03."""
    if ids:
        with engine.connect() as connection:
            missing = [i for i in ids if show_quarantine(connection, i) is None]
        if missing:
            raise QuarantineError(f"no quarantine entry {', '.join(map(str, missing))}")
    report = reprocess(engine, ids, registry_id, who, config_dir)
    if report.accepted:
        run_checks(engine)
    else:
        with engine.begin() as connection:
            judge_operational(connection, datetime.now(UTC))
    return report
