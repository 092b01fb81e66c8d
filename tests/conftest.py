"""Shared fixtures: one behavioural suite, run against SQLite and PostgreSQL.

`engine` and `db_url` are parametrized over both backends. PostgreSQL comes from
$METAREG_TEST_POSTGRES_URL (default: the local server on 127.0.0.1:5432); each test
session creates its own database and drops it at the end, and each test starts
from empty tables. Where PostgreSQL is unreachable the PostgreSQL half is skipped
and the run says so loudly, except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from metareg.db import migrate, tables
from metareg.db.engine import make_engine

PG_URL = os.environ.get(
    "METAREG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _real_data() -> Path:
    """The real public data files ($METAREG_REAL_DATA, else shared/data/real beside the
    checkout); tests that need them skip with the reason when they are absent."""
    if os.environ.get("METAREG_REAL_DATA"):
        return Path(os.environ["METAREG_REAL_DATA"])
    here = Path(__file__).resolve()
    for folder in here.parents:
        if (folder / "shared" / "data" / "real").is_dir():
            return folder / "shared" / "data" / "real"
    return here.parents[2] / "shared" / "data" / "real"


REAL_DATA = _real_data()
NO_REAL_DATA = f"the real data files are absent ({REAL_DATA})"
SAMPLES = Path(__file__).resolve().parents[1] / "config" / "samples"

_pg_problem: list[str] = []


def _postgres_reachable() -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        engine = make_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure means: no PostgreSQL here
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to the current heads."""
    problem = _postgres_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable under CI: {problem}")
        _pg_problem.append(problem)
        pytest.skip(f"PostgreSQL half skipped: {problem}")
    name = f"metareg_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in tables.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated index on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'index.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        return url
    url = str(request.getfixturevalue("postgres_url"))
    _empty_postgres(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite index at the current heads, made once per test process: tests
    that need many fresh indexes (one per hypothesis example) copy the file."""
    path = tmp_path_factory.mktemp("migrated") / "index.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An SQLite-only index, for tests about SQLite itself."""
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    problems = list(_pg_problem)
    # Under pytest-xdist the skips happen in the workers: find them in the reports.
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and "PostgreSQL half skipped: " in str(longrepr[2]):
            problems.append(str(longrepr[2]).split("PostgreSQL half skipped: ", 1)[1])
    if problems:
        terminalreporter.write_sep(
            "!", f"PostgreSQL half SKIPPED ({problems[0]}): only SQLite was tested", red=True
        )
