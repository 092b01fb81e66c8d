"""A hostile registry rewriting another Party's authorization (issue 13, as tried): IDN01
authorizes 1,000 units, 50,000 are first transferred and DC09 opens; THA01 then
publishes the same `authorization_id` as version 99 with 10^9 units and more purposes
and Parties. Only a registry acting for the authorizing Party states its
authorization (RECORDS.md), so after `metareg check --full` DC09 is still open, DC14
names THA01's record, and nothing the oversight body reads takes THA01's word: not
the authorization check, not the totals. On both backends, through the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from metareg.cli import app
from metareg.db.engine import make_engine
from metareg.oversight.checks import ProposedAction, check_authorization
from metareg.oversight.totals import index_totals
from tests.helpers import action, authorization, write_jsonl

runner = CliRunner()
AUTH = "IDN-2023-0001"
REGISTRIES = '[[registries]]\nid = "IDN01"\n\n[[registries]]\nid = "THA01"\n'


def cli(db_url: str, config: Path, *args: str) -> Any:
    result = runner.invoke(app, ["--db", db_url, "--config", str(config), *args])
    assert result.exit_code in (0, 1), result.output
    return result


def open_alerts(db_url: str, config: Path, rule: str) -> list[dict[str, Any]]:
    found = cli(db_url, config, "alerts", "--rule", rule, "--status", "open", "--format", "json")
    alerts: list[dict[str, Any]] = json.loads(found.stdout)
    return alerts


def test_a_foreign_registry_cannot_rewrite_an_authorization(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "registries.toml").write_text(REGISTRIES)
    indonesia = write_jsonl(
        tmp_path / "idn.jsonl",
        [
            authorization(AUTH, authorized_quantity=1000, purposes=["NDC"]),
            action("ISS-1", 1, 100_000),
            action(
                "FT-1",
                1,
                50_000,
                "First transfer",
                authorization_id=AUTH,
                acquiring_party_id="JPN",
                action_date="2024-03-15",
            ),
        ],
    )
    cli(db_url, config, "ingest", str(indonesia), "--registry", "IDN01")
    cli(db_url, config, "check", "--full", "--as-of", "2025-01-01")
    [exceeded] = open_alerts(db_url, config, "DC09")
    assert exceeded["evidence"][0]["record_id"] == "FT-1"

    thailand = write_jsonl(
        tmp_path / "tha.jsonl",
        [
            authorization(
                AUTH,
                version=99,
                authorized_quantity=10**9,
                purposes=["NDC", "OIMP"],
                authorized_party_ids=["JPN", "KOR", "CHE", "SGP"],
            )
        ],
    )
    cli(db_url, config, "ingest", str(thailand), "--registry", "THA01")
    cli(db_url, config, "check", "--full", "--as-of", "2025-01-01")

    assert [a["id"] for a in open_alerts(db_url, config, "DC09")] == [exceeded["id"]]
    [foreign] = open_alerts(db_url, config, "DC14")
    assert foreign["evidence"] == [
        {"registry": "THA01", "record_type": "authorization", "record_id": f"{AUTH}#v99"}
    ]
    assert "THA01" in foreign["message"] and "does not act" in foreign["message"]

    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            answer = check_authorization(
                connection,
                ProposedAction(
                    "CA0001-IDN01-IDN-50001-50010-2023",
                    action_type="First transfer",
                    acquiring_party_id="JPN",
                    authorization_id=AUTH,
                    date=date(2025, 1, 15),
                ),
            )
            totals = index_totals(connection)
    finally:
        engine.dispose()
    assert answer["decision"] == "denied"
    assert answer["authorization"]["version"] == 1 and answer["authorized_quantity"] == 1000
    assert "DC09" in {r["code"] for r in answer["reasons"] if r["outcome"] == "failed"}
    [approach] = totals["cooperative_approaches"]
    assert approach["authorized_quantity"] == 1000
