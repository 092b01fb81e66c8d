"""What a user sees when the command line is given something wrong: a missing index,
a bad database URL, an unknown rule or identifier. One line that says what is wrong,
exit status 2, no traceback, and nothing created on the way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metareg import log
from metareg.cli import app
from tests.conftest import SAMPLES

runner = CliRunner()


@pytest.fixture(autouse=True)
def _reset_logging() -> object:
    yield
    log.configure()  # the CLI bound logging to the runner's (now closed) stderr


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "command",
    [["status"], ["alerts"], ["stats"], ["show", "CA0001-IDN01-IDN-1-2-2023"], ["keys", "list"]],
    ids=" ".join,
)
def test_read_commands_never_create_an_index(tmp_path: Path, command: list[str]) -> None:
    for database in (tmp_path / "metareg.db", tmp_path / "no" / "such" / "dir" / "x.db"):
        code, out = run("--db", f"sqlite:///{database}", *command)
        assert code == 2, out
        assert f"no index at {database}" in out
        assert not database.exists() and not (tmp_path / "no").exists()
        assert "Traceback" not in out


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("foo://bar", "unknown database kind 'foo'"),
        ("mysql://user@host/metareg", "SQLite or PostgreSQL"),
        ("not a url", "is not a database URL"),
        ("postgresql://nobody@127.0.0.1:1/metareg", "cannot open the index at"),
    ],
)
def test_a_bad_url_is_one_line(url: str, words: str) -> None:
    code, out = run("--db", url, "status")
    assert code == 2
    assert words in out and len(out.strip().splitlines()) <= 2, out  # (a long line may wrap)
    assert "Traceback" not in out


def test_unknown_rule_and_identifier_are_errors(db_url: str) -> None:
    for path in sorted(SAMPLES.glob("*.jsonl")):
        assert run("--db", db_url, "ingest", str(path), "-r", path.stem)[0] == 0
    code, out = run("--db", db_url, "alerts", "--rule", "DC99")
    assert code == 2 and "unknown rule 'DC99'" in out and "DC01" in out
    assert run("--db", db_url, "alerts", "--rule", "DC05", "-f", "json")[0] == 0
    code, out = run("--db", db_url, "show", "CA0009-IDN01-IDN-1-10-2023")
    assert code == 2 and "CA0009-IDN01-IDN-1-10-2023 is not in the index" in out
    code, out = run("--db", db_url, "show", "CA0001-IDN01-IDN-30000-2023")
    assert code == 0 and "JP-USE-0002" in out


def test_every_listing_has_json(db_url: str, tmp_path: Path) -> None:
    (tmp_path / "registries.toml").write_text(
        '[[registries]]\nid = "IDN01"\nname = "Indonesia"\n'
        '[registries.connector]\ntype = "exchange"\nurl = "https://registry.example.org"\n'
    )
    base = ["--db", db_url, "--config", str(tmp_path)]
    assert run(*base, "keys", "create", "--name", "me")[0] == 0
    for command in (
        ["status"],
        ["alerts"],
        ["stats"],
        ["registries"],
        ["sources"],
        ["keys", "list"],
        ["alerts", "webhooks", "list"],
    ):
        code, out = run(*base, *command, "--format", "json")
        assert code == 0, (command, out)
        json.loads(out)
        code, out = run(*base, *command, "--format", "yaml")
        assert code == 2 and "--format must be table or json" in out, command
    status = json.loads(run(*base, "status", "--format", "json")[1])
    assert [(r["id"], r["connector"], r["health"]) for r in status] == [
        ("IDN01", "exchange", "never")
    ]
    keys = json.loads(run(*base, "keys", "list", "--format", "json")[1])
    assert [k["name"] for k in keys] == ["me"] and "token" not in json.dumps(keys).lower()
