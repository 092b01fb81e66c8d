"""The quarantine worked end to end on the real JCM credits file, with a copy corrupted
in the test: three rows spell the mechanism with an en dash (the shipped profile's
regular expression refuses them: a mapping gap) and one row's issued amount is not a
number (bad data). Through the CLI and the API, on SQLite and PostgreSQL: each entry
with its source, line and reason; `reprocess` after the mapping fix moves the three
into the index; `dismiss` marks the last reviewed with a note; SY03 resolves when none
remain; and a file or sync page mostly quarantined is not reported `ok`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from metareg.cli import app
from metareg.connectors.mapping import profile_paths
from metareg.registries import RegistryConfig
from metareg.sync.engine import sync_registry
from tests.api.conftest import make_api
from tests.conftest import NO_REAL_DATA, REAL_DATA

JCM = REAL_DATA / "jcm" / "issuance_records.csv"
pytestmark = pytest.mark.skipif(not JCM.is_file(), reason=NO_REAL_DATA)
EN_DASH = "\u2013"
runner = CliRunner()
WIDE = {"COLUMNS": "250"}  # the tables unwrapped


def _issued(row: dict[str, str]) -> bool:
    return bool(row["issuance_date"]) and float(row["issued_amount"] or 0) > 0


def corrupted_copy(tmp_path: Path, dashes: int = 3, bad_amount: bool = True) -> dict[str, Any]:
    """The real file with `dashes` issued rows' mechanism spelt with an en dash and one
    more issued row's amount mistyped; what the test expects, computed from the file."""
    with JCM.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    issued = [i for i, row in enumerate(rows) if _issued(row)]
    dashed = issued[:dashes]
    mistyped = issued[dashes] if bad_amount else None
    for i in dashed:
        rows[i]["mechanism"] = rows[i]["mechanism"].replace("-Japan", f"{EN_DASH}Japan")
    lost = 0
    if mistyped is not None:
        lost = int(float(rows[mistyped]["issued_amount"]))
        rows[mistyped]["issued_amount"] = "12O5"
    path = tmp_path / "issuance_records-corrupted.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    total = sum(int(float(r["issued_amount"])) for r in csv.DictReader(JCM.open()) if _issued(r))
    return {
        "path": path,
        "dashed_lines": [f"line {i + 2}" for i in dashed],  # the header is line 1
        "mistyped_line": f"line {mistyped + 2}" if mistyped is not None else None,
        "dashed_units": sum(int(float(rows[i]["issued_amount"])) for i in dashed),
        "total": total,
        "lost": lost,
        "rows": len(rows),
    }


def fixed_profile(config: Path) -> None:
    """The mapping fix: the host's regular expression takes either dash."""
    shipped = profile_paths()["jcm-credits"].read_text("utf-8")
    before = "regex = '^(.+?)-Japan JCM$'"
    assert before in shipped
    (config / "profiles").mkdir(parents=True, exist_ok=True)
    (config / "profiles" / "jcm-credits.toml").write_text(
        shipped.replace(before, "regex = '^(.+?)[-\\u2013]Japan JCM$'"), "utf-8"
    )


def cli(db_url: str, config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db_url, "--config", str(config), *args], env=WIDE)
    return result.exit_code, result.output


def cli_json(db_url: str, config: Path, *args: str) -> Any:
    code, out = cli(db_url, config, *args, "--format", "json")
    assert code in (0, 1), out
    lines = out.splitlines(keepends=True)
    first = next(n for n, t in enumerate(lines) if t.rstrip() in ("[", "[]", "{") or t[:2] == '{"')
    value, _ = json.JSONDecoder().raw_decode("".join(lines[first:]))
    return value


def units(db_url: str, config: Path) -> int:
    figures = cli_json(db_url, config, "stats")
    return sum(figures["by_state"].values())


def sy03(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text("SELECT status, message FROM alert WHERE rule = 'SY03' ORDER BY id")
            )
        ]


def test_quarantine_reviewed_through_the_cli(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "registries.toml").write_text("")
    file = corrupted_copy(tmp_path)
    code, out = cli(db_url, config, "ingest", str(file["path"]), "--source", "jcm-credits")
    assert code == 1, out  # some quarantined, fewer than the alert share
    assert "QUARANTINING" not in out

    listed = cli_json(db_url, config, "quarantine", "list")
    by_line = {entry["location"]: entry for entry in listed}
    assert sorted(by_line) == sorted([*file["dashed_lines"], file["mistyped_line"]])
    for entry in listed:
        assert entry["source"] == str(file["path"]) and entry["status"] == "unreviewed"
        assert entry["profile"] == "jcm-credits" and entry["reprocessable"]
    for line in file["dashed_lines"]:
        (reason,) = by_line[line]["reasons"]
        assert reason["path"].startswith("jcm-credits.toml:") and "derived.host" in reason["path"]
        assert f"matched nothing in 'Mongolia{EN_DASH}Japan JCM'" in reason["message"]
    (reason,) = by_line[file["mistyped_line"]]["reasons"]
    assert "expected a number, got '12O5'" in reason["message"]
    assert units(db_url, config) == file["total"] - file["dashed_units"] - file["lost"]

    shown = cli_json(
        db_url, config, "quarantine", "show", str(by_line[file["dashed_lines"][0]]["id"])
    )
    assert f"Mongolia{EN_DASH}Japan JCM" in shown["raw"]  # the input as received
    code, out = cli(db_url, config, "quarantine", "show", "999999")
    assert code == 2 and "no quarantine entry 999999" in out

    # Reprocessing before the fix changes nothing and says why.
    code, out = cli(db_url, config, "quarantine", "reprocess")
    assert code == 1 and "0 now in the index" in out and "4 still quarantined" in out

    # The mapping fix, then reprocess: the three rows go into the index.
    fixed_profile(config)
    report = cli_json(db_url, config, "quarantine", "reprocess", "--by", "analyst")
    dashed_ids = sorted(by_line[line]["id"] for line in file["dashed_lines"])
    mistyped_id = by_line[file["mistyped_line"]]["id"]
    assert sorted(report["accepted"]) == dashed_ids
    assert list(report["still_failing"]) == [str(mistyped_id)]
    assert units(db_url, config) == file["total"] - file["lost"]

    # The bad amount is the data's: dismissed with a note.
    code, out = cli(db_url, config, "quarantine", "dismiss", str(mistyped_id))
    assert code == 2 and "--note" in out  # a note is required
    code, out = cli(
        db_url,
        config,
        "quarantine",
        "dismiss",
        str(mistyped_id),
        "--note",
        "amount mistyped in the source; asked the JCM secretariat",
        "--by",
        "analyst",
    )
    assert code == 0 and "1 entry marked reviewed" in out, out
    assert cli_json(db_url, config, "quarantine", "list") == []
    history = {
        e["id"]: e for e in cli_json(db_url, config, "quarantine", "list", "--status", "all")
    }
    assert {history[i]["status"] for i in dashed_ids} == {"reprocessed"}
    assert history[mistyped_id]["status"] == "reviewed"
    assert history[mistyped_id]["reviewed_by"] == "analyst"
    assert history[mistyped_id]["note"].startswith("amount mistyped")
    assert history[mistyped_id]["reviewed_at"]

    # Loading the file again with the fixed profile duplicates nothing; the dismissed
    # row stays reviewed.
    code, out = cli(db_url, config, "ingest", str(file["path"]), "--source", "jcm-credits")
    assert code == 1 and units(db_url, config) == file["total"] - file["lost"]
    assert cli_json(db_url, config, "quarantine", "list") == []


def test_a_mostly_quarantined_file_is_not_ok(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    file = corrupted_copy(tmp_path, dashes=18, bad_amount=False)  # every issued row
    code, out = cli(db_url, config, "ingest", str(file["path"]), "--source", "jcm-credits")
    assert code == 3, out
    assert f"QUARANTINING: 100% of the rows of {file['path']} were quarantined" in out
    # The share is a setting.
    code, out = cli(
        db_url,
        config,
        "ingest",
        str(file["path"]),
        "--source",
        "jcm-credits",
        "--quarantine-alert-share",
        "1",
    )
    assert code == 1 and "QUARANTINING" not in out


def registries_toml(config: Path, path: Path) -> None:
    config.mkdir(exist_ok=True)
    (config / "registries.toml").write_text(
        f"""
[[registries]]
id = "JPN01"
name = "Japan JCM registry"
connector = {{ type = "tabular", path = "{path}", source = "jcm-credits" }}
""",
        "utf-8",
    )


def test_sync_quarantine_share_status_and_sy03(db_url: str, engine: Engine, tmp_path: Path) -> None:
    config = tmp_path / "config"
    mostly_bad = corrupted_copy(tmp_path, dashes=18, bad_amount=False)
    registries_toml(config, mostly_bad["path"])
    code, out = cli(db_url, config, "sync", "JPN01")
    # The table folds the share below the word at the terminal's width.
    assert code == 3 and "quarantining" in out and "(100%" in out, out
    code, out = cli(db_url, config, "status")
    assert "quarantining" in out and "18 (100%)" in out, out
    (alert,) = sy03(engine)
    assert alert == ("open", "18 quarantined record(s) from JPN01 await review")

    # The mapping fix and a reprocess: every row in, sync health and SY03 follow.
    fixed_profile(config)
    report = cli_json(db_url, config, "quarantine", "reprocess", "--registry", "JPN01")
    assert len(report["accepted"]) == 18 and not report["still_failing"]
    assert units(db_url, config) == mostly_bad["total"]
    assert [status for status, _ in sy03(engine)] == ["resolved"]
    code, out = cli(db_url, config, "sync", "JPN01")
    assert code == 0, out
    code, out = cli(db_url, config, "status")
    assert "quarantining" not in out and " ok " in out, out


def test_quarantine_reviewed_through_the_api(engine: Engine, tmp_path: Path) -> None:
    file = corrupted_copy(tmp_path)
    for api in make_api(engine, tmp_path):
        registry = RegistryConfig(
            "JPN01",
            "Japan JCM registry",
            "JPN",
            {"connector": {"type": "tabular", "path": str(file["path"]), "source": "jcm-credits"}},
        )
        result = sync_registry(engine, registry)
        assert result.ok and result.counts.quarantined == 4 and not result.quarantining
        client, admin = api.client, api.admin
        # Sync health for oversight keys: 4 of the page's 18 items, under the alert share.
        (jpn,) = [
            r
            for r in client.get("/v1/registries", headers=api.oversight).json()
            if r["id"] == "JPN01"
        ]
        assert jpn["sync"]["health"] == "ok"
        assert jpn["sync"]["quarantine_share"] == pytest.approx(4 / 18)
        assert client.get("/v1/quarantine", headers=api.oversight).status_code == 403
        listed = client.get("/v1/quarantine", headers=admin).json()
        assert sorted(e["location"] for e in listed) == sorted(
            [*file["dashed_lines"], file["mistyped_line"]]
        )
        assert {e["source"] for e in listed} == {"sync:JPN01"}
        assert all(e["reasons"] and "raw" not in e for e in listed)
        one = client.get(f"/v1/quarantine/{listed[0]['id']}", headers=admin).json()
        assert one["raw"] and one["reasons"] == listed[0]["reasons"]
        assert client.get("/v1/quarantine/999999", headers=admin).status_code == 404

        fixed_profile(api.tmp_path / "config")
        done = client.post("/v1/quarantine/reprocess", json={}, headers=admin).json()
        assert len(done["accepted"]) == 3 and len(done["still_failing"]) == 1
        (left,) = client.get("/v1/quarantine", headers=admin).json()
        assert left["location"] == file["mistyped_line"]
        refused = client.post(
            "/v1/quarantine/dismiss", json={"ids": [left["id"]], "note": " "}, headers=admin
        )
        assert refused.status_code == 422
        dismissed = client.post(
            "/v1/quarantine/dismiss",
            json={"ids": [left["id"]], "note": "bad amount in the source"},
            headers=admin,
        )
        assert dismissed.json() == {"dismissed": 1}
        assert client.get("/v1/quarantine", headers=admin).json() == []
        reviewed = client.get(f"/v1/quarantine/{left['id']}", headers=admin).json()
        assert reviewed["status"] == "reviewed" and reviewed["note"] == "bad amount in the source"
        assert (
            reviewed["reviewed_by"] == "key 1 (test admin)"
            or "test admin" in reviewed["reviewed_by"]
        )
        stats = client.get("/v1/stats", headers=admin).json()
        assert sum(stats["by_state"].values()) == file["total"] - file["lost"]
