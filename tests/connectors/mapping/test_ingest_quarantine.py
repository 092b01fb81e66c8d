"""Bad input at run time, through `metareg ingest --source`: each bad row is quarantined
with its location and the rule that failed; every other row is loaded."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from metareg.cli import app
from metareg.db.engine import make_engine

PROFILE = """
[profile]
name = "registry-export"
reads = "a test registry's issuance export"

[input]
format = "csv"

[derived]
block = { column = "Serial", regex = '-(?P<first>[0-9]+)-(?P<last>[0-9]+)$' }

[[records]]
type = "action"
registry = "{Registry}"

[records.fields]
action_id = "{ID}"
action_date = { column = "Date", as = "date" }
action_type = { column = "Type", map = "action_type" }
cooperative_approach_id = "CA0001"
party_registry_id = "{Registry}"
first_transferring_party_id = { column = "Country", country = true }
first_id = { value = "block.first", as = "integer" }
last_id = { value = "block.last", as = "integer" }
vintage = { column = "Vintage", as = "year" }
"""

EXPORT = """ID,Date,Type,Registry,Country,Serial,Vintage
I-1,2024-02-01,Issuance,IDN01,Indonesia,X-1-100,2023
I-2,2024-02-02,Issuence,IDN01,Indonesia,X-101-200,2023
I-3,2024-02-03,Issuance,IDN01,Indonesia,X-201,2023
I-4,2024-02-04,Issuance,THA01,Thailand,Y-1-50,2023
"""

runner = CliRunner()


def setup(tmp_path: Path, profile: str = PROFILE) -> tuple[Path, Path]:
    config = tmp_path / "config"
    (config / "profiles").mkdir(parents=True)
    (config / "profiles" / "registry-export.toml").write_text(profile.lstrip(), "utf-8")
    export = tmp_path / "export.csv"
    export.write_text(EXPORT, "utf-8")
    return config, export


def ingest(db_url: str, config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db_url, "--config", str(config), "ingest", *args])
    return result.exit_code, result.output


def rows(db_url: str, sql: str) -> list:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        found = [tuple(r) for r in connection.execute(text(sql))]
    engine.dispose()
    return found


def line(marker: str) -> int:
    return 1 + next(n for n, t in enumerate(PROFILE.lstrip().splitlines()) if marker in t)


def test_bad_rows_quarantined_with_row_and_rule(db_url: str, tmp_path: Path) -> None:
    config, export = setup(tmp_path)
    code, out = ingest(db_url, config, str(export), "--source", "registry-export")
    assert code == 1, out
    assert (
        f"line 3: registry-export.toml:{line('action_type =')} records[0].fields.action_type" in out
    )
    assert "'Issuence' is not in map action_type" in out
    assert f"line 4: registry-export.toml:{line('block =')} derived.block" in out
    assert "matched nothing in 'X-201'" in out
    # Nothing else lost: the good rows are in the index, each under its own registry.
    assert rows(db_url, "SELECT registry_id, action_id FROM actions ORDER BY action_id") == [
        ("IDN01", "I-1"),
        ("THA01", "I-4"),
    ]
    quarantined = rows(
        db_url, "SELECT registry_id, location, reasons FROM quarantine ORDER BY location"
    )
    assert [(r[0], r[1]) for r in quarantined] == [("IDN01", "line 3"), ("IDN01", "line 4")]
    reasons = [json.loads(r[2]) if isinstance(r[2], str) else r[2] for r in quarantined]
    assert reasons[1] == [
        {
            "path": f"registry-export.toml:{line('block =')} derived.block",
            "message": "regex '-(?P<first>[0-9]+)-(?P<last>[0-9]+)$' matched nothing in 'X-201'",
        }
    ]


def test_a_profile_naming_a_missing_column(db_url: str, tmp_path: Path) -> None:
    config, export = setup(
        tmp_path, PROFILE.replace('column = "Vintage"', 'column = "Vintage year"')
    )
    code, out = ingest(db_url, config, str(export), "--source", "registry-export")
    # Every row quarantined: more than the alert share, so exit 3, and it says so.
    assert code == 3 and "QUARANTINING: 100% of the rows" in out, out
    assert f"registry-export.toml:{line('vintage =')} records[0].fields.vintage" in out
    assert "no column 'Vintage year' in this input" in out
    assert rows(db_url, "SELECT COUNT(*) FROM quarantine") == [(4,)]
    assert rows(db_url, "SELECT COUNT(*) FROM actions") == [(0,)]
    # The mapping fixed, `reprocess` maps the quarantined rows again: the two good ones
    # go into the index; the two with bad data stay, now with their own reasons.
    (config / "profiles" / "registry-export.toml").write_text(PROFILE.lstrip(), "utf-8")
    result = runner.invoke(
        app, ["--db", db_url, "--config", str(config), "quarantine", "reprocess"]
    )
    assert result.exit_code == 1, result.output
    assert "2 now in the index, 0 skipped by the current mapping, 2 still quarantined" in (
        result.output
    )
    assert "'Issuence' is not in map action_type" in result.output
    assert rows(db_url, "SELECT registry_id, action_id FROM actions ORDER BY action_id") == [
        ("IDN01", "I-1"),
        ("THA01", "I-4"),
    ]
    assert rows(db_url, "SELECT status, COUNT(*) FROM quarantine GROUP BY status ORDER BY 1") == [
        ("reprocessed", 2),
        ("unreviewed", 2),
    ]


def test_profile_errors_stop_before_any_record_is_touched(tmp_path: Path) -> None:
    config, export = setup(tmp_path, PROFILE.replace("regex = '", "regex = '(("))
    database = tmp_path / "never.db"
    code, out = ingest(f"sqlite:///{database}", config, str(export), "--source", "registry-export")
    assert code == 2 and f"registry-export.toml:{line('block =')}: derived.block" in out
    assert "does not compile" in out and not database.exists()


def test_usage_errors(tmp_path: Path) -> None:
    config, export = setup(tmp_path)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    code, out = ingest(url, config, str(export), "--source", "no-such-profile")
    assert code == 2 and "no source profile 'no-such-profile'" in out
    code, out = ingest(url, config, str(export), "--source", "registry-export", "--param", "x")
    assert code == 2 and "expected NAME=VALUE" in out
    code, out = ingest(url, config, str(export), "--source", "registry-export", "-p", "y=1")
    assert code == 2 and "has no parameter ['y']" in out
    code, out = ingest(url, config, str(export), "--param", "y=1", "-r", "IDN01")
    assert code == 2 and "--param goes with --source" in out
