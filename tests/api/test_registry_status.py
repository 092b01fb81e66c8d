"""One reading of each registry's sync health (`metareg.oversight.registries`) behind
`metareg status`, `GET /v1/registries` and the dashboard, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from metareg import log
from metareg.cli import app as cli
from metareg.oversight.registries import registry_statuses
from metareg.sync.ingest import ingest_files
from metareg.sync.leases import Leases
from metareg.sync.settings import DEFAULT_INTERVAL, STALE_AFTER_INTERVALS
from metareg.sync.state import ensure_state, mark_attempt, mark_failure, mark_success
from tests.api.conftest import Api
from tests.helpers import action, write_jsonl

NOW = datetime.now(UTC)
# Three configured registries besides the fixture's two; the default staleness limit is
# three poll intervals (45 minutes).
MORE_REGISTRIES = """
[[registries]]
id = "KOR01"
name = "failing for five minutes"

[[registries]]
id = "MNG01"
name = "failing for a day"

[[registries]]
id = "THA01"
name = "first sync under way"
"""

# The limit a sync stores for a registry with the default schedule (what the CLI and the
# API also derive from its configuration).
STALENESS = STALE_AFTER_INTERVALS * DEFAULT_INTERVAL


def _sync(api: Api, registry: str, success_ago: timedelta | None, failures: int) -> None:
    with api.engine.begin() as connection:
        ensure_state(connection, registry)
        # The limit the sync would have stored from this registry's (default) settings.
        mark_attempt(connection, registry, NOW, STALENESS)
        if success_ago is not None:
            mark_success(connection, registry, NOW - success_ago, lag_seconds=3.0)
        for _ in range(failures):
            mark_failure(
                connection,
                registry,
                "GET https://user:hunter2@registry.example/x: 502",
                "transient",
            )


def test_health_words_agree_across_cli_api_and_dashboard(api: Api) -> None:
    config = api.tmp_path / "config"
    with (config / "registries.toml").open("a") as toml:
        toml.write(MORE_REGISTRIES)
    _sync(api, "IDN01", timedelta(minutes=1), failures=0)
    _sync(api, "KOR01", timedelta(minutes=5), failures=2)
    _sync(api, "MNG01", timedelta(days=1), failures=9)
    _sync(api, "THA01", None, failures=0)

    with api.engine.connect() as connection:
        found = {r.id: r for r in registry_statuses(connection, config)}
    expected = {  # registry: (status: API and dashboard, health: CLI)
        "IDN01": ("ok", "ok"),
        "JPN01": ("never", "never"),  # configured, never attempted
        "KOR01": ("failing", "failing"),
        "MNG01": ("failing", "stale"),
        "THA01": ("never", "never"),  # attempted, nothing succeeded or failed yet
    }
    assert {i: (r.status, r.health(NOW)) for i, r in found.items()} == expected
    # Secrets in an error message are masked wherever it is shown.
    assert found["KOR01"].sync is not None
    assert "hunter2" not in str(found["KOR01"].sync["last_error"])

    listed = api.client.get("/v1/registries", headers=api.oversight).json()
    assert {r["id"]: r["sync"]["status"] for r in listed} == {
        i: status for i, (status, _) in expected.items()
    }
    assert "hunter2" not in str(listed)

    dashboard = api.client.get("/dashboard", headers=api.oversight)
    for registry, (status, _) in expected.items():
        assert f'<tr class="health-{status}" data-registry="{registry}">' in dashboard.text

    result = CliRunner().invoke(
        cli,
        [
            "--db",
            str(api.engine.url.render_as_string(hide_password=False)),
            "--config",
            str(config),
            "status",
        ],
    )
    log.configure()  # the CLI bound logging to the runner's (now closed) stderr
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines() if "01 " in line}
    words = {"ok": "ok", "never": "never synced", "failing": "failing", "stale": "stale"}
    for registry, (_, health) in expected.items():
        assert words[health] in rows[registry], rows[registry]
    assert "hunter2" not in result.output


def test_lease_holder_and_unreviewed_quarantine(api: Api, tmp_path: Path) -> None:
    Leases(api.engine, holder="worker-a", ttl=timedelta(minutes=5)).try_acquire("IDN01")
    Leases(api.engine, holder="worker-b", ttl=timedelta(minutes=5)).try_acquire(
        "JPN01", now=NOW - timedelta(hours=1)
    )
    bad = write_jsonl(tmp_path / "bad.jsonl", [action("A", 1, 2), {"record_type": "action"}])
    ingest_files(api.engine, [bad], "JPN01")
    with api.engine.connect() as connection:
        found = {r.id: r for r in registry_statuses(connection, api.tmp_path / "config")}
    assert found["IDN01"].worker(NOW) == "worker-a"
    assert found["JPN01"].worker(NOW) is None  # its lease ran out an hour ago
    assert (found["IDN01"].quarantined_unreviewed, found["JPN01"].quarantined_unreviewed) == (0, 1)


def test_an_unreadable_registries_file_is_a_503_for_the_api_and_the_dashboard(api: Api) -> None:
    (api.tmp_path / "config" / "registries.toml").write_text("[[registries]\nid = ")
    answer = api.client.get("/v1/registries")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "registries configuration is unreadable" in answer.json()["detail"]
    page = api.client.get("/dashboard", headers=api.oversight)
    assert page.status_code == 503 and "not valid TOML" in page.json()["detail"]
