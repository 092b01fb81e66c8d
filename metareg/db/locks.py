"""The locks that keep the two sequenced logs readable by "everything after the last id
I saw", on PostgreSQL, without one global lock.

Two logs are read that way: the index's `record_version` (incremental and partitioned
checks) and the alert event log (feeds, webhooks). On PostgreSQL a transaction that
took a lower id may commit after one that took a higher id; a reader in between would
move past the late row for good. Each log is guarded differently, by what writes it:

- **The index log** is written by every sync worker at once. Index writers hold the
  index lock *shared* (`share_index_log`): writers of different registries never wait
  for each other. A check that needs a point up to which the log is final takes the
  lock *exclusively for an instant* (`index_snapshot`): that waits for the writers
  in flight, then opens a REPEATABLE READ transaction whose snapshot holds every id
  written so far, and lets the writers go on. Every id at or below the largest the
  snapshot sees belongs to a finished transaction, so a watermark taken there misses
  nothing; the check reads the index through that snapshot (and its reader connections
  import it: `snapshot_reader`) while writers keep committing.
- **The event log** is written by checks, acknowledgements and the operational rules,
  one at a time (`serialize_writers`: the event lock exclusive until commit). Index
  writers never take it.

SQLite has one writer at a time and needs none of this: every function here is a no-op
there, and `index_snapshot` gives back the connection it is handed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.pool import NullPool

from metareg.db.engine import make_engine

INDEX_LOG_KEY = 0x6D657461  # "meta": writers of record_version, shared among themselves
EVENT_LOG_KEY = 0x6D657476  # "metv": writers of the alert event log, one at a time
SNAPSHOT_KEY = "metareg.snapshot"  # connection.info: the snapshot id its readers import
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


def _postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def share_index_log(connection: Connection) -> None:
    """Hold the index lock shared until this transaction ends: other index writers go
    on alongside; a check taking its snapshot waits for this transaction to end (no-op
    on SQLite). Take it before the transaction's first `record_version` id."""
    if _postgres(connection):
        connection.execute(
            text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": INDEX_LOG_KEY}
        )


def serialize_writers(connection: Connection) -> None:
    """Hold the event lock until this transaction ends: the only writer of the alert
    event log meanwhile, so its events become visible in `seq` order (no-op on
    SQLite). Index writers do not wait for it."""
    if _postgres(connection):
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENT_LOG_KEY})


@contextmanager
def index_snapshot(connection: Connection) -> Iterator[Connection]:
    """A connection that sees the index as it stood at one instant when no index writer
    was in flight: every `record_version` id up to the largest it sees is final, so a
    watermark taken there misses nothing. Its reader connections see the same
    (`snapshot_reader`). Index writers wait only while the snapshot is taken, not while
    it is read; the snapshot's transaction writes nothing and is rolled back.

    On SQLite, `connection` itself: the caller holds the write lock (one writer at a
    time), so it and every reader see the same index."""
    if not _postgres(connection):
        yield connection
        return
    engine = connection.engine
    with engine.connect() as gate:
        gate = gate.execution_options(isolation_level="AUTOCOMMIT")
        gate.execute(text("SELECT pg_advisory_lock(:key)"), {"key": INDEX_LOG_KEY})
        try:
            reader = engine.connect().execution_options(isolation_level="REPEATABLE READ")
            try:
                reader.begin()
                # The transaction's first statement fixes its snapshot: no writer is in
                # flight now, and none can start until the gate opens.
                snapshot = reader.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            except BaseException:
                reader.close()
                raise
        finally:
            gate.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INDEX_LOG_KEY})
    try:
        reader.info[SNAPSHOT_KEY] = snapshot
        yield reader
    finally:
        reader.info.pop(SNAPSHOT_KEY, None)
        reader.rollback()
        reader.close()


@contextmanager
def snapshot_reader(connection: Connection) -> Iterator[Connection]:
    """Another connection that sees what `connection` sees: on PostgreSQL, when
    `connection` is a `index_snapshot`, one importing its snapshot; otherwise a
    plain connection of the same engine (the caller keeps writers out, e.g. SQLite's
    write lock held by `connection`)."""
    with _reading(connection.engine, _snapshot_of(connection)) as reader:
        yield reader


def reader_elsewhere(connection: Connection) -> tuple[str, str | None] | None:
    """What another process needs to see what `connection` sees (`shared_reader`): the
    database's URL, password included (handed over a pipe, never logged), and the
    PostgreSQL snapshot it imports; None where no other process can see the database
    (SQLite in memory)."""
    url = connection.engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or "mode=memory" in str(url):
            return None
    return url.render_as_string(hide_password=False), _snapshot_of(connection)


def _snapshot_of(connection: Connection) -> str | None:
    """The PostgreSQL snapshot `connection` exported (an `index_snapshot`), or None."""
    return connection.info.get(SNAPSHOT_KEY) if _postgres(connection) else None


# A process reading for another keeps its engine from one job to the next on the same
# database, but no connection: each job connects afresh (a connection kept open would
# go on reading a file that was since replaced by another of the same name).
_ENGINES: dict[str, Engine] = {}


@contextmanager
def shared_reader(url: str, snapshot: str | None) -> Iterator[Connection]:
    """In another process: a new connection seeing what the connection
    `reader_elsewhere` described sees."""
    engine = _ENGINES.get(url)
    if engine is None:
        for other in _ENGINES.values():
            other.dispose()
        _ENGINES.clear()
        engine = _ENGINES[url] = make_engine(url, poolclass=NullPool)
    with _reading(engine, snapshot) as reader:
        yield reader


@contextmanager
def _reading(engine: Engine, snapshot: str | None) -> Iterator[Connection]:
    """A connection of `engine`: importing the PostgreSQL `snapshot`, or plain."""
    if snapshot is None:
        with engine.connect() as plain:
            yield plain
        return
    with engine.connect() as other:
        other = other.execution_options(isolation_level="REPEATABLE READ")
        with other.begin():
            # A utility statement takes no bound parameter: the id is checked, then quoted.
            if not _SNAPSHOT_ID.fullmatch(snapshot):
                raise ValueError(f"not a PostgreSQL snapshot id: {snapshot!r}")
            other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            yield other
