"""A profile as a connector's `source`, synced like any registry; and `metareg stats`,
which shows the figures of `GET /v1/stats`."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from metareg.cli import app
from metareg.registries import RegistryConfig
from metareg.sync.engine import sync_registry
from tests.api.conftest import make_api
from tests.conftest import NO_REAL_DATA, REAL_DATA

JCM = REAL_DATA / "jcm" / "issuance_records.csv"
pytestmark = pytest.mark.skipif(not JCM.is_file(), reason=NO_REAL_DATA)


def test_a_tabular_connector_with_a_source_profile(engine: Engine) -> None:
    registry = RegistryConfig(
        "JPN01",
        "Japan JCM registry",
        "JPN",
        {"connector": {"type": "tabular", "path": str(JCM), "source": "jcm-credits"}},
    )
    first = sync_registry(engine, registry)
    assert first.counts.accepted == 18 and first.counts.quarantined == 0
    with engine.connect() as connection:
        # The connector's registry reports every record (RECORDS.md); the originating
        # registries stay those the data names.
        reported = connection.execute(
            text(
                "SELECT registry_id, party_registry_id, COUNT(*) FROM actions "
                "GROUP BY registry_id, party_registry_id ORDER BY party_registry_id"
            )
        ).all()
        approaches = connection.execute(text("SELECT id, name FROM cooperative_approaches")).all()
    issued = Counter(
        row["country"]
        for row in csv.DictReader(JCM.open(encoding="utf-8"))
        if row["issuance_date"] and float(row["issued_amount"] or 0) > 0
    )
    assert [tuple(r) for r in reported] == [
        ("JPN01", "JPN01", issued["Japan"]),
        ("JPN01", "MNG01", issued["Mongolia"]),
    ]
    assert [tuple(r) for r in approaches] == [("CAP-MNG-JPN-JCM", "Mongolia-Japan JCM")]
    again = sync_registry(engine, registry)
    assert again.counts.accepted == again.counts.corrected == again.counts.withdrawn == 0


def test_stats_cli_shows_the_api_figures(engine: Engine, db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--db", db_url, "ingest", str(JCM), "--source", "jcm-credits"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["--db", db_url, "stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output[result.output.index("{") :])
    for api in make_api(engine, tmp_path):
        served = api.client.get("/v1/stats", headers=api.admin).json()
    assert cli == served
    assert cli["by_party"] == [{"party_id": "MNG", "quantity_by_state": {"issued": 123_096}}]
    table = runner.invoke(app, ["--db", db_url, "stats"])
    assert table.exit_code == 0 and "CAP-MNG-JPN-JCM" in table.output and "123096" in table.output
