"""Units first transferred under an authorization, remembered while the index is unchanged.

Every `POST /v1/checks/authorization` reports how much of its authorization is left,
which needs the all-time sum of the authorization's first transfers. At 1M blocks one
authorization holds ~25k of them and that SQL sum (an index range scan) took 5-20 ms,
most of the check. The sum only changes when the index does, so each engine remembers
it, for all its connections, until SQLite reports a write.

SQLite's markers are per connection: `PRAGMA data_version` changes when *another*
connection commits, the connection's own `total_changes` when it writes itself. Each
connection keeps the marker it last saw (in its pool record's `info`); whenever a
connection sees a marker other than its last one (or has none yet: a new connection
cannot know what happened before it), the engine's memory starts a new epoch and
forgets every sum.

Exactness: a sum is remembered under the epoch read (after the marker check) *before*
it ran, and used only while the epoch is unchanged. After any commit, the first check
on each connection starts a new epoch (its marker changed, or it is new), so no
connection that checks after the commit can still see the epoch of a sum that may
predate it: a remembered sum always equals the SQL sum over the current index.

A sum not remembered is read from the total SQLite's triggers keep at write time
(`metareg.index.first_transferred`: one look-up), and only summed where they are
missing. Other databases have no such cheap per-connection marker: there the sum always
runs.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from metareg.detection.read import authorizations
from metareg.index import first_transferred as kept_at_write

SEEN_KEY = "metareg.detection.cached_totals.seen"  # in the pool record's info: the last marker seen
MAX_KEYS = 10_000  # callers may name any authorization id: bound what is remembered


@dataclass
class _Memory:
    lock: threading.Lock = field(default_factory=threading.Lock)
    epoch: int = 0
    totals: dict[tuple[str, str], int] = field(default_factory=dict)


_MEMORIES: weakref.WeakKeyDictionary[Engine, _Memory] = weakref.WeakKeyDictionary()
_MEMORIES_LOCK = threading.Lock()


def _marker(connection: Connection) -> tuple[int, int] | None:
    """(data_version, total_changes) of a SQLite connection; None elsewhere."""
    if connection.dialect.name != "sqlite":
        return None
    dbapi = connection.connection.dbapi_connection
    own_changes = getattr(dbapi, "total_changes", None)
    if dbapi is None or own_changes is None:
        return None
    cursor = dbapi.cursor()
    try:
        version = cursor.execute("PRAGMA data_version").fetchone()[0]
    finally:
        cursor.close()
    return int(version), int(own_changes)


def _memory(engine: Engine) -> _Memory:
    with _MEMORIES_LOCK:
        memory = _MEMORIES.get(engine)
        if memory is None:
            memory = _MEMORIES[engine] = _Memory()
        return memory


def _epoch(connection: Connection, memory: _Memory) -> int | None:
    """The epoch this connection may use, after checking it for writes; None when the
    database gives no marker (nothing is remembered then)."""
    marker = _marker(connection)
    if marker is None:
        return None
    info = connection.connection.info
    with memory.lock:
        if info.get(SEEN_KEY) != marker:  # new connection, or a write since it last looked
            info[SEEN_KEY] = marker
            memory.epoch += 1
            memory.totals = {}
        return memory.epoch


def first_transferred(connection: Connection, ca: str, authorization_id: str) -> int:
    """`authorizations.first_transferred(connection, ca, authorization_id)`, remembered
    while the database is unchanged."""
    memory = _memory(connection.engine)
    epoch = _epoch(connection, memory)
    if epoch is None:
        return authorizations.first_transferred(connection, ca, authorization_id)
    key = (ca, authorization_id)
    with memory.lock:
        total = memory.totals.get(key) if memory.epoch == epoch else None
    if total is not None:
        return total
    total = kept_at_write.units(connection, ca, authorization_id)
    if total is None:  # the triggers are missing: summed
        total = authorizations.first_transferred(connection, ca, authorization_id)
    with memory.lock:
        if memory.epoch == epoch:  # no write seen since the epoch was read
            if len(memory.totals) >= MAX_KEYS:
                memory.totals = {}
            memory.totals[key] = total
    return total
