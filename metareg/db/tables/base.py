"""The one `MetaData` every table is on, and how a table is declared."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, Table

metadata = MetaData()


def table(name: str, *items: Any, **options: Any) -> Table:
    """A `Table` on `metadata`.

    It also answers to `.__table__` (itself): the spelling of the SQLModel classes these
    tables were before, kept for code not yet moved to the plain name."""
    created = Table(name, metadata, *items, **options)
    created.__table__ = created  # type: ignore[attr-defined]
    return created
