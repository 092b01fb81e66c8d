"""`metareg keys` (token shown once, only its hash stored) and readiness when the index
is not there."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from metareg import log
from metareg.cli import app as cli
from metareg.db.engine import make_engine
from metareg.db.tables.keys import ApiKey
from metareg.web.app import create_app
from metareg.web.settings import ApiSettings
from tests.api.conftest import TestClient


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging onto CliRunner's stderr, which closes after the call;
    later tests would log into a closed file."""
    yield
    log.configure()


@pytest.mark.usefixtures("restore_logging")
def test_keys_cli_shows_the_token_once_and_stores_only_its_hash(db_url: str) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli, ["--db", db_url, "keys", "create", "--name", "UNFCCC", "--role", "admin"]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("mrk_") and len(token) > 40
    engine = make_engine(db_url)
    with engine.connect() as connection:
        (row,) = connection.execute(select(ApiKey)).all()
        dump = " ".join(str(v) for v in row)
    engine.dispose()
    assert token not in dump
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
    listed = runner.invoke(cli, ["--db", db_url, "keys", "list"])
    assert "UNFCCC" in listed.stdout and token not in listed.stdout
    assert runner.invoke(cli, ["--db", db_url, "keys", "revoke", str(row.id)]).exit_code == 0
    again = runner.invoke(cli, ["--db", db_url, "keys", "revoke", str(row.id)])
    assert again.exit_code == 1
    bad = runner.invoke(cli, ["--db", db_url, "keys", "create", "--name", "x", "--role", "root"])
    assert bad.exit_code == 2 and "role" in bad.output


def test_readyz_is_503_when_migrations_are_pending(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE placeholder (x INTEGER)"))
    client = TestClient(create_app(engine, settings=ApiSettings(config=tmp_path)))
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert "migrations" in ready.json()["detail"].lower()


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:9/nothing", connect_args={"connect_timeout": 2}
    )
    client = TestClient(create_app(engine, settings=ApiSettings(config=tmp_path)))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "does not answer" in ready.json()["detail"]
