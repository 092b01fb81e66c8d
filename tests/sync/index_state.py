"""What the index holds, as comparable sets (for 'identical to a clean run' checks)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from metareg.db.tables.index import CURRENT_TABLES, RecordVersion
from metareg.index import columns


def current(engine: Engine) -> set[tuple[str, str, str, str]]:
    """(registry, record_type, uid, content hash) of every current record."""
    out: set[tuple[str, str, str, str]] = set()
    with engine.connect() as connection:
        for record_type, model in CURRENT_TABLES.items():
            table = model
            for registry, uid, digest in connection.execute(
                select(table.c.registry_id, table.c.uid, table.c.content_hash)
            ):
                out.add((registry, record_type, uid, digest))
    return out


def history(engine: Engine) -> list[tuple[str, str, str, str, str | None]]:
    """Every history entry (sorted), so a doubled write shows as an extra entry."""
    table = RecordVersion
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                table.c.registry_id,
                table.c.record_type,
                table.c.uid,
                table.c.change,
                table.c.content_hash,
            )
        ).all()
    return sorted((r[0], r[1], r[2], r[3], r[4]) for r in rows)


def copy_as_rebuilt(engine: Engine) -> bool:
    """Whether the columnar copy (SQLite) is byte for byte the one made afresh from the
    rows (PostgreSQL keeps none: trivially so)."""
    if engine.dialect.name != "sqlite":
        return True
    read = f"SELECT kind, segment, data FROM {columns.STORE} ORDER BY kind, segment"
    with engine.connect() as connection:
        kept = connection.exec_driver_sql(read).all()
        columns.rebuild(connection)
        fresh = connection.exec_driver_sql(read).all()
        connection.rollback()
    return bool(kept) and kept == fresh
