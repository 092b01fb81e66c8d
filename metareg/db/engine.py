"""Database engines for SQLite (the default, embedded) and PostgreSQL (at scale).

SQLite runs in WAL mode with a busy timeout, so an API reader and a sync writer
can share the file without "database is locked" errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from metareg.db import checkpoints

SQLITE_BUSY_TIMEOUT_MS = 30_000
# How much of an SQLite file a long read maps (`file_mapped`): more than any index.
MMAP_BYTES = 1 << 34


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cursor.close()
    checkpoints.sqlite_pragma(dbapi_connection)


@contextmanager
def file_mapped(connection: Connection) -> Iterator[None]:
    """On SQLite, read the database file through a memory map while the block runs: a
    long read over more pages than the page cache holds then costs no copy and no
    system call per page. Elsewhere nothing changes."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql(f"PRAGMA mmap_size={MMAP_BYTES}")
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA mmap_size=0")


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if database and database != ":memory:" and "mode=memory" not in url:
            # The log's checkpoints on a thread of the engine (`db.checkpoints`).
            checkpoints.attach(engine, str(Path(database).expanduser()))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)
