"""Whether the index can serve: the database answers and its schema is at the current
migration heads (what `/readyz` reports)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from metareg.db import migrate


def not_ready(engine: Engine) -> str | None:
    """Why the index cannot serve, or None when it can."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"The database does not answer ({type(error).__name__})."
    if not migrate.is_current(engine):
        return "Database migrations are pending: run `metareg db upgrade`."
    return None
