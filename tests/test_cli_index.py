"""The foundation's command line as a user drives it: ingest, show, registries, db."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from metareg.cli import app
from tests.conftest import SAMPLES
from tests.helpers import action, write_jsonl

runner = CliRunner()


def run(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.output


def test_ingest_exit_codes_and_summary(db_url: str, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [action("ISS-1", 1, 10)])
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [action("ISS-2", 11, 20), "{oops"])
    code, out = run(db_url, "ingest", str(good), "--registry", "IDN01")
    assert code == 0, out
    assert "accepted" in out and "1 lines from 1 file(s) into IDN01" in out
    code, out = run(db_url, "ingest", str(mixed), "--registry", "IDN01")
    assert code == 1
    assert "mixed.jsonl line 2: $: not valid JSON" in out
    # Nothing else was lost: the good line of the mixed file is in the index.
    code, out = run(db_url, "show", "CA0001-IDN01-IDN-11-20-2023", "--format", "json")
    assert [r["record_id"] for r in json.loads(out)["records"]] == ["ISS-2"]


def test_ingest_usage_errors_exit_2(db_url: str, tmp_path: Path) -> None:
    assert run(db_url, "ingest", str(tmp_path / "missing.jsonl"), "-r", "IDN01")[0] == 2
    other = tmp_path / "records.xml"
    other.write_text("<x/>")
    code, out = run(db_url, "ingest", str(other), "-r", "IDN01")
    assert code == 2 and "unknown file type" in out
    good = write_jsonl(tmp_path / "g.jsonl", [action("A", 1, 2)])
    code, out = run(db_url, "ingest", str(good), "-r", "Indonesia")
    assert code == 2 and "alpha-3" in out
    assert run(db_url, "ingest", str(good))[0] == 2  # --registry is required


def test_show_samples_with_history(db_url: str) -> None:
    for path in sorted(SAMPLES.glob("*.jsonl")):
        assert run(db_url, "ingest", str(path), "-r", path.stem)[0] == 0
    code, out = run(db_url, "show", "CA0001-IDN01-IDN-30000-2023", "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert shown["block"]["quantity"] == 1
    found = {(r["registry"], r["record_id"]) for r in shown["records"]}
    assert found == {
        ("IDN01", "ISS-17"),
        ("IDN01", "FT-5"),
        ("JPN01", "JP-ACQ-0001"),
        ("JPN01", "JP-USE-0001"),
        ("JPN01", "JP-USE-0002"),
        ("JPN01", "2024-12-31|JPN-CANCEL-1|CA0001-IDN01-IDN-1-35000-2023"),
    }
    assert all(r["history"][0]["change"] == "new" for r in shown["records"])
    assert [a["record"]["authorization_id"] for a in shown["authorizations"]] == ["IDN-2023-0001"]
    # The same description as GET /v1/itmos gives: the derived state and the alerts too.
    assert shown["state"]["state"] == "used" and shown["alerts"] == []
    code, out = run(db_url, "show", "CA0001-IDN01-IDN-30000-2023")
    assert code == 0 and "JP-USE-0002" in out


def test_show_names_the_wrong_part(db_url: str) -> None:
    code, out = run(db_url, "show", "CA0001-IDN01-IDN-20-10-2023")
    assert code == 2 and "range" in out.lower()
    code, out = run(db_url, "show", "CA01-IDN01-IDN-1-2023")
    assert code == 2 and "cooperative approach" in out


def test_show_marks_a_provisional_approach(db_url: str, tmp_path: Path) -> None:
    block = {"cooperative_approach_id": "CAP-RWA-SIQ", "party_registry_id": "RWA01"}
    block["first_transferring_party_id"] = "RWA"
    path = write_jsonl(tmp_path / "rwa.jsonl", [action("ISS-1", 1, 10, **block)])
    assert run(db_url, "ingest", str(path), "-r", "RWA01")[0] == 0
    unfccc = write_jsonl(tmp_path / "idn.jsonl", [action("ISS-2", 1, 10)])
    assert run(db_url, "ingest", str(unfccc), "-r", "IDN01")[0] == 0
    code, out = run(db_url, "show", "CAP-RWA-SIQ-RWA01-RWA-1-10-2023")
    assert code == 0 and "ISS-1" in out and "provisional cooperative approach" in out
    code, out = run(db_url, "show", "CAP-RWA-SIQ-RWA01-RWA-1-10-2023", "--format", "json")
    assert json.loads(out)["block"]["provisional"] is True
    code, out = run(db_url, "show", "CA0001-IDN01-IDN-1-10-2023", "--format", "json")
    assert json.loads(out)["block"]["provisional"] is False


def test_registries_lists_the_config(tmp_path: Path, db_url: str) -> None:
    (tmp_path / "registries.toml").write_text(
        '[[registries]]\nid = "MNG01"\nname = "Mongolia JCM registry"\n'
    )
    code, out = run(db_url, "--config", str(tmp_path), "registries")
    assert code == 0 and "MNG01" in out and "MNG" in out and "Mongolia" in out
    (tmp_path / "registries.toml").write_text('[[registries]]\nid = "Mongolia"\n')
    code, out = run(db_url, "--config", str(tmp_path), "registries")
    assert code == 2 and "alpha-3" in out


def test_db_upgrade_and_current(db_url: str) -> None:
    code, out = run(db_url, "db", "upgrade")
    assert code == 0 and "schema current" in out
    assert run(db_url, "db", "current")[0] == 0


def test_log_json_emits_structured_events(db_url: str, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [action("ISS-1", 1, 10)])
    result = runner.invoke(app, ["--db", db_url, "--log-json", "ingest", str(good), "-r", "IDN01"])
    events = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    finished = [e for e in events if e["event"] == "ingest finished"]
    assert finished and finished[0]["accepted"] == 1 and finished[0]["registry"] == "IDN01"
    assert finished[0]["level"] == "info" and "timestamp" in finished[0]
