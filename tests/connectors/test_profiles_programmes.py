"""The crediting programmes' real exports through their shipped profiles: every row
loads (or is skipped with its reason, never lost), and the totals per programme,
vintage and status that metareg reports equal the sums this test computes from the
files itself (csv, not metareg's code). On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from metareg.cli import app
from metareg.connectors.mapping.profile import load_profile
from metareg.db.engine import make_engine
from metareg.oversight import programmes
from metareg.sync.profile_ingest import ingest_with_profile
from tests.conftest import NO_REAL_DATA, REAL_DATA

pytestmark = pytest.mark.skipif(not (REAL_DATA / "verra").is_dir(), reason=NO_REAL_DATA)

Row = dict[str, str]
# (status, vintage as stored, quantity) of each record a row yields.
Yield = Callable[[Row], Iterator[tuple[str, str | None, float]]]


def rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float:
    return float(text.replace(",", ""))


def one(status: str, vintage: str | None, quantity: str) -> Iterator[tuple[str, str | None, float]]:
    yield status, vintage, number(quantity)


def verra(row: Row) -> Iterator[tuple[str, str | None, float]]:
    state = "retired" if row["Retirement/Cancellation Date"] else "issued"
    return one(state, row["Vintage Start"][:4], row["Quantity Issued"])


def gs_retirement(row: Row) -> Iterator[tuple[str, str | None, float]]:
    state = {"Retired": "retired", "Canceled": "cancelled"}[row["Credit Status"]]
    return one(state, row["Vintage"], row["Quantity"])


ARB_RETIRED = (
    "Retired Voluntarily",
    "Retired 1st Compliance Period (CA)",
    "Retired 2nd Compliance Period (CA)",
    "Retired 3rd Compliance Period (CA)",
    "Retired 4th Compliance Period (CA)",
    "Retired 5th Compliance Period (CA)",
    "Retired for Compliance in Quebec",
    "Retired for Intentional Reversal",
    "Buffer Pool Retired",
)


def arb(row: Row) -> Iterator[tuple[str, str | None, float]]:
    if not row["CARB Issuance ID"]:
        return
    vintage = str(int(float(row["Vintage"]))) if row["Vintage"] else None
    yield "issued", vintage, number(row["ARB Offset Credits Issued"])
    for column in ARB_RETIRED:
        if row[column] and number(row[column]) != 0:
            yield "retired", vintage, number(row[column])
    if row["Invalidated or Canceled"] and number(row["Invalidated or Canceled"]) != 0:
        yield "cancelled", vintage, number(row["Invalidated or Canceled"])


# (file, profile, programme, what each row yields)
EXPORTS: list[tuple[str, str, str, Yield]] = [
    ("verra/transactions.csv", "verra-transactions", "VCS", verra),
    (
        "gold-standard/issuances.csv",
        "gold-standard-issuances",
        "GS",
        lambda r: one("issued", r["Vintage"], r["Quantity"]),
    ),
    ("gold-standard/retirements.csv", "gold-standard-retirements", "GS", gs_retirement),
    (
        "apx/acr-issuances.csv",
        "acr-issuances",
        "ACR",
        lambda r: one("issued", r["Vintage"], r["Total Credits Issued"]),
    ),
    (
        "apx/acr-retirements.csv",
        "acr-retirements",
        "ACR",
        lambda r: one("retired", r["Vintage"], r["Quantity of Credits"]),
    ),
    (
        "apx/acr-cancellations.csv",
        "acr-cancellations",
        "ACR",
        lambda r: one("cancelled", r["Vintage"], r["Quantity of Credits"]),
    ),
    (
        "apx/car-issuances.csv",
        "car-issuances",
        "CAR",
        lambda r: one("issued", r["Vintage"], r["Total Offset Credits Issued"]),
    ),
    (
        "apx/car-retirements.csv",
        "car-retirements",
        "CAR",
        lambda r: one("retired", r["Vintage"], r["Quantity of Offset Credits"]),
    ),
    (
        "apx/car-cancellations.csv",
        "car-cancellations",
        "CAR",
        lambda r: one("cancelled", r["Vintage"], r["Quantity of Offset Credits"]),
    ),
    (
        "apx/art-trees-issuances.csv",
        "art-trees-issuances",
        "ART",
        lambda r: one("issued", r["Vintage"], r["Credits Verified"]),
    ),
    (
        "apx/art-trees-retirements.csv",
        "art-trees-retirements",
        "ART",
        lambda r: one("retired", r["Vintage"], r["Quantity of Credits"]),
    ),
    (
        "apx/art-trees-cancellations.csv",
        "art-trees-cancellations",
        "ART",
        lambda r: one("cancelled", r["Vintage"], r["Quantity of Credits"]),
    ),
    (
        "cercarbono/issuances.csv",
        "cercarbono-issuances",
        "CERCARBONO",
        lambda r: one(
            "buffer" if r["is_buffer"] == "True" else "issued", r["year"], r["issued_quantity"]
        ),
    ),
    (
        "cercarbono/retirements.csv",
        "cercarbono-retirements",
        "CERCARBONO",
        lambda r: one("retired", r["vintage"], r["quantity"]),
    ),
    (
        "isometric/issuances.csv",
        "isometric-issuances",
        "ISOMETRIC",
        lambda r: one("issued", None, r["credit_batch_size_total.credits"]),
    ),
    (
        "isometric/retirements.csv",
        "isometric-retirements",
        "ISOMETRIC",
        lambda r: one(
            "retired", r["sequestered_on"][:4] or None, r["credit_batch_size_total.credits"]
        ),
    ),
    ("arb/nc-arboc_issuance_sheet3.csv", "arb-issuances", "ARB", arb),
]


def test_every_programme_export_loads_with_its_totals(db_url: str) -> None:
    engine = make_engine(db_url)
    expected: dict[tuple[str, str | None, str], list[float]] = defaultdict(lambda: [0, 0.0])
    try:
        for name, profile, programme, yields in EXPORTS:
            path = REAL_DATA / name
            data = rows(path)
            records = [y for row in data for y in yields(row)]
            report = ingest_with_profile(engine, [path], load_profile(profile), {})
            assert report.counts.quarantined == 0, (name, report.problems)
            assert report.lines == len(data), name
            # Every row gave its records or was skipped with a reason: none lost.
            assert report.counts.accepted == len(records), name
            yielding = sum(1 for row in data if any(True for _ in yields(row)))
            assert sum(report.skipped.values()) == len(data) - yielding, name
            for state, vintage, quantity in records:
                expected[(programme, vintage, state)][0] += 1
                expected[(programme, vintage, state)][1] += quantity
        with engine.connect() as connection:
            found = {
                (t["programme"], t["vintage"], t["status"]): (t["records"], t["quantity"])
                for t in programmes.totals(connection)
            }
    finally:
        engine.dispose()
    assert set(found) == set(expected)
    for key, (count, quantity) in expected.items():
        assert found[key][0] == count, key
        assert found[key][1] == pytest.approx(quantity, abs=1e-6), key
    # The batch-id sources say so in their profiles.
    for profile in ("cercarbono-issuances", "cercarbono-retirements", "isometric-issuances"):
        assert "Batch-id source" in load_profile(profile).notes


def test_ingest_a_programme_export_from_the_command_line(tmp_path: Path) -> None:
    """`metareg ingest FILE --registry VCS --source verra-transactions`, twice: the
    second time changes nothing."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = str(REAL_DATA / "verra" / "transactions.csv")
    runner = CliRunner()
    args = ["--db", url, "ingest", path, "--registry", "VCS", "--source", "verra-transactions"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    engine = create_engine(url)
    with engine.connect() as connection:
        totals = programmes.totals(connection, "VCS")
        statuses = programmes.statuses_for(
            connection,
            "VCS",
            "19385-941467100-941467100-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
        )
    engine.dispose()
    assert sum(t["records"] for t in totals) == 200
    [retired] = statuses
    assert retired["status"] == "retired" and retired["registry"] == "VCS"
    assert retired["first_unit_id"].startswith("19385-941467007-941467431-")


def test_a_programme_configured_beside_the_registries_is_synced(tmp_path: Path) -> None:
    """`[[programmes]]` in registries.toml: the programme's id, its export through its
    profile, polled like any registry (`metareg sync`); then an ITMO issuance resting
    on a VCU block Verra reports retired for a voluntary claim raises DC15."""
    config = tmp_path / "config"
    config.mkdir()
    export = REAL_DATA / "verra" / "transactions.csv"
    (config / "registries.toml").write_text(
        f"""
[[registries]]
id = "IDN01"
name = "Indonesia"

[[programmes]]
id = "VCS"
name = "Verra VCS registry"
schedule = {{ interval_hours = 24 }}
[programmes.connector]
type = "tabular"
path = "{export}"
source = "verra-transactions"
"""
    )
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    runner = CliRunner()
    listed = runner.invoke(app, ["--db", url, "--config", str(config), "registries"])
    assert listed.exit_code == 0 and "VCS" in listed.output, listed.output
    synced = runner.invoke(app, ["--db", url, "--config", str(config), "sync", "VCS"])
    assert synced.exit_code == 0, synced.output
    retired = next(r for r in rows(export) if r["Retirement Reason"] == "Environmental Benefit")
    issuance = {
        "record_type": "action",
        "action_id": "ISS-1",
        "action_date": "2024-02-01",
        "action_type": "Issuance",
        "cooperative_approach_id": "CA0001",
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "first_id": 1,
        "last_id": int(number(retired["Quantity Issued"])),
        "vintage": 2023,
        "underlying_registry_id": "VCS",
        "first_unit_id": retired["Serial Number"],
        "last_unit_id": retired["Serial Number"],
    }
    records = tmp_path / "itmo.jsonl"
    records.write_text(json.dumps(issuance) + "\n")
    loaded = runner.invoke(app, ["--db", url, "ingest", str(records), "--registry", "IDN01"])
    assert loaded.exit_code == 0, loaded.output
    checked = runner.invoke(app, ["--db", url, "--config", str(config), "check", "--full"])
    assert checked.exit_code in (0, 1), checked.output
    engine = create_engine(url)
    with engine.connect() as connection:
        kinds = dict(connection.execute(text("SELECT id, kind FROM registry")).all())
        rules = [r for (r,) in connection.execute(text("SELECT rule FROM alert"))]
    engine.dispose()
    assert kinds == {"IDN01": "party", "VCS": "programme"}
    assert "DC15" in rules
