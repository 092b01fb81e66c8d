"""Opening the index: an engine with the schema migrated to the current heads."""

from __future__ import annotations

from sqlalchemy import Engine

from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.settings import database_url


def open_index(url: str | None = None, upgrade: bool = True) -> Engine:
    """The engine of the index at `url` (or the configured one), migrated on open."""
    engine = make_engine(database_url(url))
    if upgrade:
        migrate.upgrade(engine)
    return engine
