"""A small harness: put records into the index as a registry would, run the checks,
read the alerts back."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from metareg.alerts import store
from metareg.checks.runner import run_checks
from metareg.sync.ingest import ingest_files
from tests.helpers import write_jsonl

AS_OF = date(2025, 6, 30)


class Index:
    def __init__(self, engine: Engine, tmp_path: Path) -> None:
        self.engine = engine
        self.tmp_path = tmp_path
        self._files = itertools.count()

    def put(self, registry: str, *records: Any) -> None:
        path = write_jsonl(self.tmp_path / f"batch{next(self._files)}.jsonl", list(records))
        report = ingest_files(self.engine, [path], registry)
        assert report.counts.quarantined == 0, report.problems

    def check(self, full: bool = False, as_of: date = AS_OF, grace_days: int = 30) -> Any:
        return run_checks(self.engine, full=full, as_of=as_of, grace_days=grace_days)

    def alerts(self, rule: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return store.list_alerts(connection, rule=rule, status=status, limit=10_000)

    def open_rules(self) -> list[str]:
        return sorted(a["rule"] for a in self.alerts() if a["status"] != "resolved")


@pytest.fixture
def index(engine: Engine, tmp_path: Path) -> Index:
    return Index(engine, tmp_path)
