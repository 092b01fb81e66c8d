"""The one `MetaData` every table is on, and how a table is declared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, text

metadata = MetaData()


def table(name: str, *items: Any, **options: Any) -> Table:
    """A `Table` on `metadata`.

    Its columns' names and keys are plain `str`, as SQLAlchemy's declarative classes
    (and SQLModel before) give them, not `quoted_name`: rows become dicts keyed by
    column name, and orjson writes only plain `str` keys.

    It also answers to `.__table__` (itself) and `.__tablename__` (its name): the
    spelling of the SQLModel classes these tables were before, kept for code not yet
    moved to the plain `Table` (bench/jobs.py, which also drives older revisions)."""
    for item in items:
        if isinstance(item, Column):
            item.name = item.key = str(item.name)
    created = Table(name, metadata, *items, **options)
    created.__table__ = created  # type: ignore[attr-defined]
    created.__tablename__ = name  # type: ignore[attr-defined]
    return created


def partial_index(
    name: str, *columns: str, where: str, postgresql_include: Sequence[str] = ()
) -> Index:
    """An index of only the rows meeting `where` (SQL both databases read alike), on
    SQLite and PostgreSQL. A query uses it only when its WHERE spells this condition.
    `postgresql_include`: columns PostgreSQL keeps in the index without ordering by
    them (SQLite's indexes hold the row id anyway)."""
    return Index(
        name,
        *columns,
        sqlite_where=text(where),
        postgresql_where=text(where),
        postgresql_include=list(postgresql_include),
    )
