"""Alembic environment: the engine comes from metareg.db.migrate, never from a file."""

from __future__ import annotations

from alembic import context

from metareg.db import tables

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=tables.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
