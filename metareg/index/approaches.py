"""The provisional cooperative approaches a load met, kept with the source's name for
each and the UNFCCC id it was folded into (`metareg.db.tables.approaches`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from metareg.db.tables.approaches import CooperativeApproach
from metareg.db.upsert import upsert

_approaches = CooperativeApproach


def store_approaches(connection: Connection, notes: Iterable[Any]) -> int:
    """Add or update the approaches of `notes` (`ApproachNote`s: id, name, source,
    folded_into); the latest name and fold win."""
    rows = {
        note.id: {
            "id": note.id,
            "name": note.name[:500],
            "provisional": True,
            "source": note.source[:200],
            "folded_into": note.folded_into,
        }
        for note in notes
    }
    if rows:
        upsert(
            connection,
            _approaches,
            list(rows.values()),
            key=("id",),
            update=("name", "source", "folded_into"),
        )
    return len(rows)
