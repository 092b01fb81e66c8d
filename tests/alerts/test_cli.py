"""`metareg check` and `metareg alerts` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metareg import log
from metareg.cli import app
from metareg.findings import DETECTION_RULES
from tests.alerts.test_lifecycle import RULES_FIELDS
from tests.helpers import action, write_jsonl

runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI points structlog at the runner's captured stderr, which is closed after
    each invocation: point it back at the real one for the tests that follow."""
    yield
    log.configure()


def _run(db_url: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db_url, *args], env=env)
    return result.exit_code, result.stdout


def test_check_then_list_ack_and_filter(db_url: str, tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [action("ISS-1", 1, 100)])
    b = write_jsonl(tmp_path / "b.jsonl", [action("ISS-9", 50, 150, "Issuance", quantity_tco2e=5)])
    assert _run(db_url, "ingest", str(a), "-r", "IDN01")[0] == 0
    assert _run(db_url, "ingest", str(b), "-r", "JPN01")[0] == 0

    code, out = _run(db_url, "check", "--as-of", "2025-01-01", "--format", "json")
    assert code == 0
    summary = json.loads(out)
    by_rule = {row["rule"]: row for row in summary["rules"]}
    assert summary["full"] is True and summary["as_of"] == "2025-01-01"
    assert by_rule["DC01"]["opened"] == 1 and by_rule["DC12"]["open"] == 1
    assert sorted(by_rule) == sorted(DETECTION_RULES)  # every rule of RULES.md, in order

    code, out = _run(db_url, "alerts", "--format", "json", "--rule", "DC01")
    [alert] = json.loads(out)
    assert code == 0 and set(alert) == RULES_FIELDS

    code, _ = _run(db_url, "alerts", "ack", alert["id"], "--note", "asked JPN01 to correct")
    assert code == 0
    code, out = _run(db_url, "alerts", "--status", "acknowledged", "--format", "json")
    assert [a["id"] for a in json.loads(out)] == [alert["id"]]
    code, out = _run(db_url, "alerts", "--registry", "IDN01")
    assert code == 0 and alert["id"] in out
    # The table names the range as its ITMO identifier, as `metareg show` takes it.
    assert alert["identifier"] == "CA0001-IDN01-IDN-50-100-2023"
    assert alert["identifier"] in out

    code, out = _run(db_url, "check")
    assert code == 0 and "incremental" in out


def test_cli_refuses_bad_input_clearly(db_url: str) -> None:
    result = runner.invoke(app, ["--db", db_url, "check", "--as-of", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr
    result = runner.invoke(app, ["--db", db_url, "alerts", "--status", "closed"])
    assert result.exit_code == 2 and "status must be one of" in result.stderr
    result = runner.invoke(app, ["--db", db_url, "alerts", "ack", "nope", "--note", "x"])
    assert result.exit_code == 2 and "no alert" in result.stderr


def test_webhook_subscriptions_from_cli_and_config(db_url: str, tmp_path: Path) -> None:
    env = {"HOOK_SECRET": "s3cret-s3cret-s3cret"}
    code, _ = _run(
        db_url,
        "alerts",
        "webhooks",
        "add",
        "ops",
        "--url",
        "http://127.0.0.1:9/hook",
        "--secret-env",
        "HOOK_SECRET",
        "--rule",
        "DC01,DC05",
        "--allow-private",
        env=env,
    )
    assert code == 0
    # Loopback without --allow-private is refused.
    result = runner.invoke(
        app,
        [
            *("--db", db_url, "alerts", "webhooks", "add", "bad"),
            *("--url", "http://127.0.0.1/x", "--secret-env", "HOOK_SECRET"),
        ],
        env=env,
    )
    assert result.exit_code == 2 and "private" in result.stderr
    config = tmp_path / "webhooks.toml"
    config.write_text(
        '[[webhooks]]\nname = "regulator"\nurl = "https://93.184.215.14/hooks"\n'
        'secret_env = "HOOK_SECRET"\nseverities = ["critical"]\n'
    )
    result = runner.invoke(
        app, ["--db", db_url, "alerts", "webhooks", "sync", "--file", str(config)], env=env
    )
    assert result.exit_code == 0, result.stderr
    code, out = _run(db_url, "alerts", "webhooks", "list", "--format", "json")
    listed = json.loads(out)["subscriptions"]
    assert [(s["id"], s["origin"]) for s in listed] == [("ops", "cli"), ("regulator", "config")]
    assert all("secret" not in s for s in listed) and "s3cret" not in out
    assert _run(db_url, "alerts", "webhooks", "remove", "ops")[0] == 0
