"""The generated world the checks' tests share (`bench.generator`, `SIZE` blocks; the
`world` fixture is in this folder's conftest): its day, loading it, its open alerts,
and the assertion that a full check changes none of them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from bench.generator import Manifest
from metareg.checks.runner import run_checks
from metareg.db.tables.alerts import Alert
from metareg.sync.ingest import ingest_files

AS_OF = date(2025, 6, 30)
NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)
SIZE = 2_000


def load(engine: Engine, world: Manifest) -> None:
    for registry, path in sorted(world.files.items()):
        report = ingest_files(engine, [Path(path)], registry)
        assert report.counts.quarantined == 0, report.problems


def open_alerts(engine: Engine) -> dict[str, str]:
    alerts = Alert
    with engine.connect() as connection:
        rows = connection.execute(
            select(alerts.c.fingerprint, alerts.c.rule).where(alerts.c.status != "resolved")
        )
        return {fingerprint: rule for fingerprint, rule in rows}


def assert_a_full_check_changes_nothing(engine: Engine) -> None:
    summary = run_checks(engine, full=True, as_of=AS_OF, now=NOW)
    assert not any(summary.opened.values()), summary.opened
    assert not any(summary.reopened.values()), summary.reopened
    assert not any(summary.resolved.values()), summary.resolved
