"""What every figure shares: the run's settings, fresh databases, timing and results.

A figure module exposes `NAME`, `TITLE` and `run(ctx) -> list[Result]`. A figure whose
code is not there yet (another part of metareg still being built) returns a Result
with status "unavailable" and says which module it waits for, so the table always
lists every figure of the issue.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from metareg.db import migrate
from metareg.db.engine import make_engine

MEASURED = "measured"
UNAVAILABLE = "unavailable"
SKIPPED = "skipped"


@dataclass
class Result:
    """One row of the table: a figure at one size, every run kept."""

    figure: str
    metric: str
    unit: str
    size: int
    values: list[float] = field(default_factory=list)
    goal: str = ""
    # True / False when the goal applies at this size and backend, None when not judged.
    met: bool | None = None
    status: str = MEASURED
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def spread(self) -> tuple[float, float] | None:
        return (min(self.values), max(self.values)) if self.values else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "metric": self.metric,
            "unit": self.unit,
            "size": self.size,
            "values": self.values,
            "median": self.median,
            "min": self.spread[0] if self.spread else None,
            "max": self.spread[1] if self.spread else None,
            "goal": self.goal,
            "met": self.met,
            "status": self.status,
            "note": self.note,
            "extra": self.extra,
        }


def unavailable(figure: str, metric: str, size: int, waits_for: str, goal: str = "") -> Result:
    return Result(
        figure, metric, "", size, goal=goal, status=UNAVAILABLE, note=f"waits for {waits_for}"
    )


def module_present(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


@dataclass
class Context:
    """The settings of one `python -m bench` run."""

    size: int
    db: str  # "sqlite" (files in workdir) or a PostgreSQL server URL
    runs: int
    workdir: Path
    seed: int = 7
    _bases: dict[int, str] = field(default_factory=dict)  # size -> loaded index URL
    memo: dict[Any, Any] = field(default_factory=dict)  # measurements figures share

    @property
    def backend(self) -> str:
        return "postgresql" if self.db.startswith("postgres") else "sqlite"

    def fresh_url(self, tag: str) -> str:
        """The URL of a new, empty database (migrated by `fresh_index`)."""
        if self.backend == "sqlite":
            path = self.workdir / f"{tag}-{secrets.token_hex(3)}.db"
            return f"sqlite:///{path}"
        name = f"metareg_bench_{tag}_{secrets.token_hex(3)}".replace("-", "_")
        with _admin(self.db) as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return make_url(_psycopg(self.db)).set(database=name).render_as_string(False)

    def fresh_index(self, tag: str) -> str:
        url = self.fresh_url(tag)
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        return url

    def copy_of(self, url: str, tag: str) -> str:
        """A throw-away copy of a loaded index (figures that write to it)."""
        if self.backend == "sqlite":
            source = Path(make_url(url).database or "")
            target = self.workdir / f"{tag}-{secrets.token_hex(3)}.db"
            with engine_for(url) as engine, engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # WAL into file
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"
        name = f"metareg_bench_{tag}_{secrets.token_hex(3)}"
        with _admin(self.db) as connection:
            template = make_url(url).database
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": template},
            )
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return make_url(url).set(database=name).render_as_string(False)

    def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            database = make_url(url).database or ""
            for suffix in ("", "-wal", "-shm"):
                Path(database + suffix).unlink(missing_ok=True)
            return
        with _admin(self.db) as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
            )

    def drop_all(self) -> None:
        for url in self._bases.values():
            self.drop(url)
        self._bases.clear()


def _psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(False)


@contextmanager
def _admin(server_url: str) -> Iterator[Any]:
    engine = make_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
