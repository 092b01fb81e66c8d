"""Sync health and the operational alerts the checks judge from it (SY01, SY02, SY03),
reconciliation, the checks after each round of syncs, `metareg status` / `metareg sync`,
and the scheduler."""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from metareg import log
from metareg.alerts.store import alerts_table
from metareg.checks.runner import run_checks
from metareg.cli import app
from metareg.exchange import InMemoryFeedSource, create_exchange_app
from metareg.registries import RegistryConfig
from metareg.sync.engine import sync_registry
from metareg.sync.reconcile import reconcile_registry
from metareg.sync.state import sync_state
from metareg.sync.worker import Worker
from tests.sync.feeds import exchange_registry, issuance, populated
from tests.sync.loopback import mounted, serve


def alerts(engine: Engine, rule: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(alerts_table).where(alerts_table.c.rule == rule))
        return [dict(row) for row in rows.mappings()]


def test_sy03_counts_quarantined_records(engine: Engine) -> None:
    source = InMemoryFeedSource("IDN01")
    source.upsert(issuance("IDN01", 1))
    source.upsert({**issuance("IDN01", 2), "first_id": -5})
    with serve(create_exchange_app(source)) as url:
        assert sync_registry(engine, exchange_registry("IDN01", url)).ok
    run_checks(engine)
    (alert,) = alerts(engine, "SY03")
    assert alert["status"] == "open" and "1 quarantined" in alert["message"]
    assert alert["registries"] == ["IDN01"]


def test_sy01_after_staleness_limit_and_resolved_on_success(engine: Engine) -> None:
    source = populated("JPN01", records=3)
    with serve(create_exchange_app(source, bearer_token="right-token-1")) as url:
        failing = exchange_registry(
            "JPN01",
            url,
            staleness_limit_minutes=0,
            connector={"auth": {"type": "bearer", "token_env": "METAREG_TEST_JPN01"}},
        )
        import os

        os.environ["METAREG_TEST_JPN01"] = "wrong-token-1"
        try:
            result = sync_registry(engine, failing)
            assert not result.ok and result.error_kind == "configuration"
            run_checks(engine)
            (alert,) = alerts(engine, "SY01")
            assert alert["status"] == "open" and alert["details"]["error_kind"] == "configuration"
            assert "wrong-token-1" not in str(alert)
            os.environ["METAREG_TEST_JPN01"] = "right-token-1"
            assert sync_registry(engine, failing).ok
        finally:
            del os.environ["METAREG_TEST_JPN01"]
    run_checks(engine)
    (alert,) = alerts(engine, "SY01")
    assert alert["status"] == "resolved"


def test_failure_within_staleness_limit_raises_nothing(engine: Engine) -> None:
    registry = exchange_registry("IDN01", "http://127.0.0.1:9", connector={"max_attempts": 1})
    assert not sync_registry(engine, registry).ok
    run_checks(engine)
    assert alerts(engine, "SY01") == []  # default limit: 3 poll intervals (45 minutes)


def test_reconciliation_totals_then_blocks(engine: Engine) -> None:
    source = populated("MNG01", records=12)
    with serve(create_exchange_app(source)) as url:
        registry = exchange_registry("MNG01", url)
        assert sync_registry(engine, registry).ok
        clean = reconcile_registry(engine, registry)
        assert clean.status == "ok" and clean.differences == 0
        # The registry drops a block without a tombstone: the index still holds it.
        n = next(n for n in range(1, 13) if ("action", f"ISS-{n}") in source._current)
        source.forget(issuance("MNG01", n))
        report = reconcile_registry(engine, registry)
        assert report.status == "mismatch"
        (row,) = report.totals
        assert row["registry_blocks"] == row["index_blocks"] - 1
        assert row["index_units"] - row["registry_units"] == 100
        assert report.extra_in_index == [["action", f"ISS-{n}", n * 100 + 1, n * 100 + 100]]
        run_checks(engine)
        (alert,) = alerts(engine, "SY02")
        assert alert["status"] == "open" and alert["details"]["totals"] == report.totals
        # The registry rebuilds its feed; the full resync this forces (410) reconciles the
        # index, and SY02 resolves.
        source.rebuild()
        assert sync_registry(engine, registry).ok
        assert reconcile_registry(engine, registry).status == "ok"
    run_checks(engine)
    assert alerts(engine, "SY02")[0]["status"] == "resolved"


def test_checks_run_once_after_each_round_of_syncs(engine: Engine) -> None:
    """The worker's after-round hook (the checks, as `metareg sync` and `metareg run`
    pass them) runs once per round, after every sync of the round has committed."""
    sources = {registry_id: InMemoryFeedSource(registry_id) for registry_id in ("IDN01", "JPN01")}
    sources["IDN01"].upsert(issuance("IDN01", 1))
    sources["IDN01"].upsert({**issuance("IDN01", 1), "action_id": "ISS-again"})  # DC01
    sources["JPN01"].upsert(issuance("JPN01", 1))
    synced_when_checked: list[set[str]] = []

    def checks(engine: Engine) -> Any:
        with engine.connect() as connection:
            rows = connection.execute(
                select(sync_state.c.registry_id, sync_state.c.last_success_at)
            )
            synced_when_checked.append({registry_id for registry_id, at in rows if at})
        return run_checks(engine)

    apps = {registry_id: create_exchange_app(source) for registry_id, source in sources.items()}
    with serve(mounted(apps)) as url:
        configs = [exchange_registry(r, f"{url}/{r}") for r in sources]
        worker = Worker(engine, configs, threads=2, after_round=checks)
        first = worker.sync_round(list(sources))
        assert all(result is not None and result.ok for result in first.synced.values())
        assert synced_when_checked == [{"IDN01", "JPN01"}]
        assert first.after is not None and first.after.opened == {"DC01": 1}
        # Nothing changed: the round is still checked (SY01 is judged after failed
        # rounds too), and nothing new opens.
        again = worker.sync_round(list(sources))
    assert len(synced_when_checked) == 2 and again.after.opened == {}
    assert [a["rule"] for a in alerts(engine, "DC01")] == ["DC01"]


def test_overlapping_rounds_are_checked_once_after_the_last_ends(engine: Engine) -> None:
    calls: list[int] = []

    def hook(_: Engine) -> int:
        calls.append(len(calls) + 1)
        return calls[-1]

    worker = Worker(engine, [exchange_registry("IDN01", "http://127.0.0.1:9")], after_round=hook)
    with worker.round() as first:
        with worker.round() as second:
            pass
        assert calls == []  # the first round is still open
    assert calls == [1] and first.after == 1 and second.after is None
    with worker.round() as stopped:
        stopped.abandon()
    assert calls == [1]  # an abandoned round is not checked
    with worker.round() as third:
        pass
    assert calls == [1, 2] and third.after == 2


def write_config(folder: Path, url: str, registry_id: str = "IDN01") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "registries.toml").write_text(
        f'[[registries]]\nid = "{registry_id}"\nname = "test"\nallow_private_network = true\n'
        f'[registries.connector]\ntype = "exchange"\nurl = "{url}"\n'
        '[[registries]]\nid = "THA01"\nname = "no connector yet"\n'
    )
    return folder


def test_cli_sync_then_status(db_url: str, tmp_path: Path) -> None:
    source = populated("IDN01", records=5)
    runner = CliRunner()
    with serve(create_exchange_app(source)) as url:
        config = write_config(tmp_path / "config", url)
        base = ["--db", db_url, "--config", str(config)]
        synced = runner.invoke(app, [*base, "sync", "--no-checks"])
        assert synced.exit_code == 0, synced.output
        assert "IDN01" in synced.output and "ok" in synced.output
    status = runner.invoke(app, [*base, "status"])
    assert status.exit_code == 0, status.output
    lines = {line.split()[0]: line for line in status.output.splitlines() if "01 " in line}
    assert "ok" in lines["IDN01"] and "never synced" in lines["THA01"]
    assert "exchange" in lines["IDN01"]  # the connector its configuration names
    shown = runner.invoke(app, [*base, "status", "--format", "json"])
    by_id = {registry["id"]: registry for registry in json.loads(shown.output)}
    assert by_id["IDN01"]["health"] == "ok" and by_id["IDN01"]["connector"] == "exchange"
    received = by_id["IDN01"]["sync"]["records_received"]
    assert received >= 5 and f" {received} " in lines["IDN01"]  # the table's figure
    assert by_id["THA01"]["health"] == "never" and by_id["THA01"]["sync"] is None
    unknown = runner.invoke(app, [*base, "sync", "THA01"])
    assert unknown.exit_code == 2 and "no connector" in unknown.output
    log.configure()  # the CLI bound logging to the runner's (now closed) stderr


class SlowSource(InMemoryFeedSource):
    def changes(self, cursor: str | None, limit: int) -> Any:
        time.sleep(0.3)
        return super().changes(cursor, limit)


def test_scheduled_syncs_never_overlap_and_missed_runs_coalesce(engine: Engine) -> None:
    source = SlowSource("IDN01")
    source.upsert(issuance("IDN01", 1))
    with serve(create_exchange_app(source)) as url:
        registry: RegistryConfig = exchange_registry(
            "IDN01", url, schedule={"interval_seconds": 0.1}, page_size=500
        )
        worker = Worker(engine, [registry])
        spans: list[tuple[float, float]] = []
        lock = threading.Lock()
        original = worker.sync_one

        def timed(registry_id: str, progress: Any = None) -> Any:
            start = time.monotonic()
            try:
                return original(registry_id, progress)
            finally:
                with lock:
                    spans.append((start, time.monotonic()))

        worker.sync_one = timed  # type: ignore[method-assign]
        scheduler = BackgroundScheduler(executors=Worker.executors(4), timezone="UTC")
        worker.add_jobs(scheduler)
        scheduler.start()
        time.sleep(2.0)
        scheduler.shutdown(wait=True)
    spans.sort()
    assert len(spans) >= 3
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(spans))
    assert len(spans) <= 2.0 / 0.3 + 1  # 20 ticks, but runs never pile up
