"""Shared request dependencies: the engine, a read connection, the settings.

Reads go through a `ConnectionGate`: a request waits at most `overload_wait_seconds`
for a database connection, then gets a 503 problem with `Retry-After`. Without it an
overloaded API queued requests in the thread pool and SQLAlchemy's pool and answered
500 (`QueuePool limit ... reached`) after 30 s, long after the caller gave up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from sqlalchemy import Connection, Engine
from sqlalchemy.pool import QueuePool

from metareg.web.problems import ApiProblem
from metareg.web.settings import ApiSettings

OVERLOADED_RETRY_AFTER_SECONDS = 1


def overloaded() -> ApiProblem:
    """The 503 an overloaded API answers (RFC 9457, with Retry-After)."""
    return ApiProblem(
        503,
        "The API is at capacity; retry shortly.",
        kind="overloaded",
        headers={"Retry-After": str(OVERLOADED_RETRY_AFTER_SECONDS)},
    )


class ConnectionGate:
    """At most `capacity` requests hold a read connection at once; the rest wait up to
    `wait_seconds`, then are refused. `capacity=None` admits everyone (pools without a
    fixed size). The gate is sized to the pool's base size so that the pool's overflow
    stays free for the short connections outside it (key lookups, writes)."""

    def __init__(self, capacity: int | None, wait_seconds: float) -> None:
        self.capacity = capacity
        self.wait_seconds = wait_seconds
        self._slots = threading.BoundedSemaphore(capacity) if capacity else None

    @classmethod
    def for_engine(cls, engine: Engine, wait_seconds: float) -> ConnectionGate:
        pool = engine.pool
        capacity = pool.size() if isinstance(pool, QueuePool) else None
        return cls(capacity, wait_seconds)

    def try_enter(self) -> bool:
        """Take a slot if one is free right now (never waits); `leave` gives it back."""
        return self._slots is None or self._slots.acquire(blocking=False)

    def leave(self) -> None:
        if self._slots is not None:
            self._slots.release()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the block, or raise the 503 problem when none frees in time."""
        if self._slots is None:
            yield
            return
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise overloaded()
        try:
            yield
        finally:
            self._slots.release()


class LoopConnection:
    """The one read connection the reads on the event loop share (`reading_inline`),
    kept open between requests instead of a pool checkout and check-in per request, so
    those reads also share one warm page cache (five pooled connections taken in turn
    had one each). Only over a pool of lasting connections (`QueuePool`: an SQLite
    file, PostgreSQL); elsewhere `borrow` gives None and the caller connects as before.

    On SQLite a request's statements run in one read transaction (`BEGIN` when it
    borrows the connection): SQLite takes and checks its shared lock once per request
    instead of once per statement (about ten system calls less per `GET /v1/itmos`),
    and the request reads one snapshot. Nothing outlives the request: whatever
    transaction it holds is rolled back when it gives the connection back, so the next
    one sees every commit, a key's revocation included. One request at a time: a caller
    on another thread (a test client's loop) that finds it taken gets None."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lasting = isinstance(engine.pool, QueuePool)
        self._sqlite = engine.dialect.name == "sqlite"
        self._connection: Connection | None = None
        self._driver: Any = None
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self) -> Iterator[Connection | None]:
        if not (self._lasting and self._lock.acquire(blocking=False)):
            yield None
            return
        try:
            connection = self._connection
            if connection is None or connection.closed or connection.invalidated:
                connection = self._connection = self.engine.connect()
                self._driver = connection.connection.driver_connection
            if self._sqlite:
                self._driver.execute("BEGIN")
            try:
                yield connection
            finally:
                self._end_transactions(connection)
        finally:
            self._lock.release()

    def _end_transactions(self, connection: Connection) -> None:
        try:
            if connection.in_transaction():
                connection.rollback()
            if self._sqlite and self._driver.in_transaction:
                self._driver.rollback()
        except Exception:
            self.close()  # never reused in an unknown state
            raise

    def close(self) -> None:
        connection, self._connection = self._connection, None
        self._driver = None
        if connection is not None:
            connection.close()


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def settings_of(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def gate_of(request: Request) -> ConnectionGate:
    gate: ConnectionGate = request.app.state.connection_gate
    return gate


@contextmanager
def reading(request: Request) -> Iterator[Connection]:
    """`read_connection` for a handler that opens it itself (in its one worker thread)."""
    with gate_of(request).slot(), engine_of(request).connect() as connection:
        yield connection


def inline_reads(request: Request) -> bool:
    """Whether the hottest reads may run on the event loop (see `ApiSettings.inline_reads`)."""
    return bool(request.app.state.inline_reads)


@contextmanager
def reading_inline(request: Request) -> Iterator[Connection | None]:
    """A read connection for the event loop itself, when the hottest reads may run there
    (`inline_reads`) and a read slot is free right now (never waits); else None, and
    the caller reads in a worker thread (`reading`)."""
    gate = gate_of(request)
    if not (inline_reads(request) and gate.try_enter()):
        yield None
        return
    try:
        shared: LoopConnection = request.app.state.loop_connection
        with shared.borrow() as connection:
            if connection is not None:
                yield connection
                return
        with engine_of(request).connect() as connection:
            yield connection
    finally:
        gate.leave()


def read_connection(request: Request) -> Iterator[Connection]:
    """A connection for the request; reads only, so nothing to commit."""
    with reading(request) as connection:
        yield connection
