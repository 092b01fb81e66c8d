"""SQLite's WAL checkpoints on a thread of their own, off the writers' path.

In WAL mode a commit appends its pages to the `-wal` file; a checkpoint copies them
back into the database file and syncs it. By default SQLite runs the checkpoint inside
the commit that takes the log past 1,000 pages, so whichever writer crosses the line
waits for the copy and the fsync: a check's commit of 1,700 new alerts spent 65-105 ms of
its 0.42-0.53 s there, a file ingest of two registries about 3 of its 41 s (measured
2026-12-05 on the 1M world).

metareg's connections leave that to a thread of their engine instead (SQLite's own
advice for applications that want commits free of checkpoint latency): after a
commit the engine's `Checkpointer` wakes, runs a PASSIVE checkpoint on a connection
of its own (it never blocks a reader or a writer, and SQLite's C code runs it without
Python's lock), and again while the log keeps changing; idle for `IDLE_SECONDS`, the
thread ends, and the next commit starts one. A writer that outruns it meets SQLite's
own checkpoint again at `BACKSTOP_PAGES` (`PRAGMA wal_autocheckpoint`), so the log
stays bounded whatever the thread does.

Nothing here changes what is durable: a commit is in the log before it returns (with
`synchronous=NORMAL`, as before), and a process that ends with pages still in the log
leaves them to the next connection (SQLite checkpoints when its last connection
closes, and recovers the log when it opens).
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

# SQLite's own checkpoint in the commit, only past this many pages in the log (64 MiB
# at 4 KiB pages; SQLite's default is 1,000): the bound when the thread falls behind.
BACKSTOP_PAGES = 16_384
# While the log is changing the thread looks at it this often; idle this long, it ends.
POLL_SECONDS = 0.02
IDLE_SECONDS = 1.0
BUSY_TIMEOUT_SECONDS = 5.0


class Checkpointer:
    """Checkpoints one SQLite database's log after its engine's commits (see the module
    docstring). `committed` is the engine's commit hook; `settled` waits until every
    page the log held when it was called is in the database file."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._wal = Path(f"{database}-wal")
        self._rounds = 0  # checkpoints completed, every page then in the log copied
        self.last_error: str | None = None
        self._fresh_state()
        _LIVE.add(self)

    def _fresh_state(self) -> None:
        """No thread, and locks nobody holds: at creation, and in a forked child (the
        parent's thread is not there, and it may have held the lock at the fork)."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def committed(self, *_: Any) -> None:
        """A commit is being made: (re)start the thread if it is not running."""
        self._wake.set()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="metareg-checkpoint", daemon=True
                )
                self._thread.start()

    def settled(self, timeout: float = 30.0) -> bool:
        """Wait until the log's pages, as they are now, are all in the database file
        (a checkpoint that began after this call copied every one); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            wanted = self._rounds + 2  # one may have begun before the call
            running = self._thread is not None
        if not running:
            self.committed()
        with self._lock:
            while self._rounds < wanted:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.set()
                self._done.wait(min(left, POLL_SECONDS))
        return True

    def stop(self, timeout: float = BUSY_TIMEOUT_SECONDS + 1) -> None:
        """End the thread (after one last checkpoint) and close its connection: when the
        engine is disposed, and at exit, so the process's last connection to close is
        one that deletes the log (a thread's open connection would keep the `-wal`
        file after the process). The next commit starts a thread again."""
        with self._lock:
            thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        self._stopping.set()
        self._wake.set()
        thread.join(timeout)
        self._stopping.clear()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self._wal.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(
                self.database, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
            )
        except sqlite3.Error as error:
            self._stop(str(error))
            return
        try:
            seen: tuple[int, int] | None = None
            idle_since = time.monotonic()
            while True:
                woke = self._wake.wait(POLL_SECONDS)
                self._wake.clear()
                stopping = self._stopping.is_set()
                stamp = self._stamp()
                if woke or stamp != seen:
                    seen = stamp
                    self._checkpoint(connection)
                    idle_since = time.monotonic()
                if stopping or time.monotonic() - idle_since >= IDLE_SECONDS:
                    # One more before it ends: the file's time may not have moved for a
                    # commit within the clock's tick (a checkpoint with nothing to copy
                    # writes nothing).
                    self._checkpoint(connection)
                    with self._lock:
                        if stopping or not self._wake.is_set():
                            self._thread = None
                            self._done.notify_all()
                            return
        except sqlite3.Error as error:
            self._stop(str(error))
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        busy, log, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        with self._lock:
            if not busy and copied >= log:  # every page in the log copied
                self._rounds += 1
            self._done.notify_all()

    def _stop(self, error: str) -> None:
        """The thread cannot go on (the file is gone, say): SQLite's backstop checkpoints
        in the commits from now on; the next commit tries a thread again."""
        with self._lock:
            self.last_error = error
            self._thread = None
            self._done.notify_all()


_LIVE: weakref.WeakSet[Checkpointer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for checkpointer in list(_LIVE):
        checkpointer.stop()


def _after_fork_in_child() -> None:
    for checkpointer in list(_LIVE):
        checkpointer._fresh_state()


os.register_at_fork(after_in_child=_after_fork_in_child)


def sqlite_pragma(dbapi_connection: Any) -> None:
    """On each of metareg's SQLite connections: its own checkpoint only past the backstop."""
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")


def attach(engine: Engine, database: str) -> Checkpointer:
    """Give `engine` (SQLite, on the file `database`) its checkpointing thread."""
    checkpointer = Checkpointer(database)
    event.listen(engine, "commit", checkpointer.committed)
    event.listen(engine, "engine_disposed", lambda _: checkpointer.stop())
    engine.dialect.metareg_checkpointer = checkpointer  # type: ignore[attr-defined]
    return checkpointer


def checkpointer_of(engine: Engine) -> Checkpointer | None:
    """The engine's checkpointer (None for PostgreSQL or an in-memory database)."""
    found: Checkpointer | None = getattr(engine.dialect, "metareg_checkpointer", None)
    return found
