"""SQLite's log is checkpointed on a thread of the engine, not in the writers' commits
(`metareg.db.checkpoints`): what a user of the file notices is that a commit reaches
the database file without waiting for another one, that the log stays bounded when
the thread falls behind, and that nothing is left behind or lost when the engine is
disposed, the process exits, or the process dies."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from metareg.db import checkpoints
from metareg.db.checkpoints import checkpointer_of
from metareg.db.engine import make_engine

ROW = "x" * 3000  # most of a 4 KiB page


def _write(engine, rows: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, v TEXT)")
        connection.exec_driver_sql(
            "INSERT INTO t VALUES (?, ?)", [(start + n, ROW) for n in range(rows)]
        )


def _rows_in_file_alone(database: Path, tmp_path: Path) -> int:
    """The rows a copy of the database file holds without its log (what a backup that
    copies the file sees)."""
    alone = tmp_path / "alone.db"
    shutil.copyfile(database, alone)
    with sqlite3.connect(alone) as connection:
        found = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 't'"
        ).fetchone()[0]
        return connection.execute("SELECT count(*) FROM t").fetchone()[0] if found else 0


def test_a_commit_reaches_the_database_file_without_another_commit(tmp_path: Path) -> None:
    database = tmp_path / "index.db"
    engine = make_engine(f"sqlite:///{database}")
    _write(engine, 10)  # far below SQLite's own threshold of 1,000 pages
    checkpointer = checkpointer_of(engine)
    assert checkpointer is not None
    assert checkpointer.settled()
    assert _rows_in_file_alone(database, tmp_path) == 10
    _write(engine, 5, start=10)
    assert checkpointer.settled()
    assert _rows_in_file_alone(database, tmp_path) == 15
    engine.dispose()


def test_a_writer_checkpoints_itself_only_past_the_backstop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the thread held back (never started), commits leave their pages in the log
    until it passes the backstop; then the committing writer checkpoints, so the log
    never grows past the backstop and one transaction."""
    monkeypatch.setattr(checkpoints, "BACKSTOP_PAGES", 64)
    monkeypatch.setattr(checkpoints.Checkpointer, "committed", lambda self, *_: None)
    database = tmp_path / "index.db"
    engine = make_engine(f"sqlite:///{database}")
    _write(engine, 5)
    assert _rows_in_file_alone(database, tmp_path) == 0  # still in the log only
    largest = 0
    for round_ in range(1, 30):
        _write(engine, 10, start=round_ * 10)
        largest = max(largest, (tmp_path / "index.db-wal").stat().st_size)
    assert largest < (64 + 2 * 10 + 8) * 4200
    assert _rows_in_file_alone(database, tmp_path) > 5  # the backstop copied some
    engine.dispose()


def test_disposing_the_engine_ends_the_thread_and_leaves_no_log(tmp_path: Path) -> None:
    database = tmp_path / "index.db"
    engine = make_engine(f"sqlite:///{database}")
    _write(engine, 20)
    checkpointer = checkpointer_of(engine)
    assert checkpointer is not None and checkpointer.running
    engine.dispose()
    assert not checkpointer.running
    assert not (tmp_path / "index.db-wal").exists()
    assert _rows_in_file_alone(database, tmp_path) == 20
    _write(engine, 1, start=20)  # the engine still works; its next commit starts a thread
    assert checkpointer.running and checkpointer.settled()
    assert _rows_in_file_alone(database, tmp_path) == 21
    engine.dispose()


def _child(database: Path, ending: str) -> None:
    code = textwrap.dedent(
        f"""
        import os
        from metareg.db.engine import make_engine
        engine = make_engine("sqlite:///{database}")
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY, v TEXT)")
            connection.exec_driver_sql(
                "INSERT INTO t VALUES (?, ?)", [(n, "x" * 3000) for n in range(500)]
            )
        {ending}
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_process_that_exits_without_disposing_leaves_no_log(tmp_path: Path) -> None:
    database = tmp_path / "index.db"
    _child(database, "pass")
    assert not (tmp_path / "index.db-wal").exists()
    assert _rows_in_file_alone(database, tmp_path) == 500


def test_a_process_that_dies_after_its_commit_loses_nothing(tmp_path: Path) -> None:
    database = tmp_path / "index.db"
    _child(database, "os._exit(0)")  # no exit handlers, no close: as if killed
    with sqlite3.connect(database) as connection:  # the log is recovered on open
        assert connection.execute("SELECT count(*) FROM t").fetchone()[0] == 500
