"""Each real source file through its shipped profile, as a user runs it: `metareg ingest
FILE --source NAME`, then `metareg stats --format json`, compared with sums the test
computes from the file itself (csv / json / openpyxl, not metareg's code). On SQLite and
PostgreSQL; skipped, with the reason, where the real files are absent."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pycountry
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from metareg.cli import app
from metareg.db.engine import make_engine
from tests.conftest import NO_REAL_DATA, REAL_DATA
from tests.connectors.test_cadt import V2_ACTION_TYPES

pytestmark = pytest.mark.skipif(not (REAL_DATA / "jcm").is_dir(), reason=NO_REAL_DATA)

JCM = REAL_DATA / "jcm" / "issuance_records.csv"
SIQ = REAL_DATA / "article6" / "sustainable-iq-article6.2-tool" / "snapshot-2026-08-14.json"
CADT = REAL_DATA / "cadt"
UNDP = REAL_DATA / "aef" / "undp"

runner = CliRunner()


def cli(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.output


def stats(db_url: str) -> dict[str, Any]:
    code, out = cli(db_url, "stats", "--format", "json")
    assert code == 0, out
    figures = json.loads(out[out.index("{") :])

    def totals(key: str, by: str) -> dict[Any, int]:
        return {row[by]: sum(row["quantity_by_state"].values()) for row in figures[key]}

    return {
        "units": sum(figures["by_state"].values()),
        "by_state": figures["by_state"],
        "approach": totals("by_cooperative_approach", "cooperative_approach_id"),
        "vintage": totals("by_vintage", "vintage"),
        "party": totals("by_party", "party_id"),
    }


def query(db_url: str, sql: str) -> list[Any]:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        rows = list(connection.execute(text(sql)))
    engine.dispose()
    return rows


def alpha3(name: str) -> str:
    return str(pycountry.countries.lookup(name).alpha_3)


def test_jcm_credits(db_url: str) -> None:
    rows = list(csv.DictReader(JCM.open(encoding="utf-8")))
    issued = [r for r in rows if r["issuance_date"] and float(r["issued_amount"] or 0) > 0]
    by_country = Counter()
    by_vintage = Counter()
    for row in issued:
        by_country[row["country"]] += int(float(row["issued_amount"]))
        by_vintage[int(row["monitoring_end"][:4])] += int(float(row["issued_amount"]))
    assert by_country == {"Japan": 103_451, "Mongolia": 19_645}

    code, out = cli(db_url, "ingest", str(JCM), "--source", "jcm-credits")
    assert code == 0, out
    assert "skipped 3 row(s): notified, not issued yet" in out
    assert "skipped 1 row(s): nothing issued to this country" in out
    assert len(rows) - len(issued) == 4

    figures = stats(db_url)
    assert figures["units"] == 123_096 == sum(by_country.values())
    assert figures["by_state"] == {"issued": 123_096}
    assert figures["approach"] == {"CAP-MNG-JPN-JCM": 123_096}
    assert figures["party"] == {"MNG": 123_096}  # the host is the first transferring Party
    assert figures["vintage"] == dict(by_vintage)
    per_registry = query(
        db_url,
        "SELECT registry_id, party_registry_id, SUM(last_id - first_id + 1) FROM actions "
        "GROUP BY registry_id, party_registry_id ORDER BY registry_id",
    )
    assert [tuple(r) for r in per_registry] == [
        ("JPN01", "JPN01", by_country["Japan"]),
        ("MNG01", "MNG01", by_country["Mongolia"]),
    ]
    assert query(db_url, "SELECT id, name, provisional FROM cooperative_approaches") == [
        ("CAP-MNG-JPN-JCM", "Mongolia-Japan JCM", True)
    ]
    # The derived identities are deterministic: loading the file again changes nothing.
    code, out = cli(db_url, "ingest", str(JCM), "--source", "jcm-credits")
    assert code == 0 and "│ 0        │ 0         │ 18" in out, out


def test_article6_sustainable_iq_snapshot(db_url: str) -> None:
    document = json.loads(SIQ.read_text("utf-8"))
    columns, lookups = document["c"], document["d"]
    count = document["n"]
    approach, vintage, party = Counter(), Counter(), Counter()
    for i in range(count):
        host = alpha3(lookups["cty"][columns["cty"][i]])
        ca = lookups["ca"][columns["ca"][i]]
        units = columns["vol"][i]
        approach[ca if ca != "NA" else f"CAP-{host}-SIQ"] += units
        vintage[columns["vin"][i]] += units
        party[host] += units

    code, out = cli(db_url, "ingest", str(SIQ), "--source", "article6-siq")
    assert code == 0, out
    figures = stats(db_url)
    assert count == 601 and figures["units"] == 23_240_850 == sum(columns["vol"])
    assert figures["approach"] == dict(approach)
    assert figures["vintage"] == dict(vintage)
    assert figures["party"] == dict(party)
    assert query(db_url, "SELECT COUNT(*) FROM actions")[0][0] == 601
    provisional = query(db_url, "SELECT id, name FROM cooperative_approaches ORDER BY id")
    assert [r[0] for r in provisional] == sorted(a for a in approach if a.startswith("CAP-"))
    assert provisional[0][1].startswith("Benin: authorised credits")
    # Half the units stand on approaches the UNFCCC has not numbered yet.
    assert sum(v for a, v in approach.items() if a.startswith("CAP-")) == 12_108_834


def test_cadt_v1_units(db_url: str) -> None:
    units = json.loads((CADT / "v1-stubs" / "units.stub.json").read_text("utf-8"))
    args = ["--source", "cadt", "--registry", "IDN01", "--param", "cooperative_approach_id=CA0001"]
    code, out = cli(db_url, "ingest", str(CADT / "v1-stubs" / "units.stub.json"), *args)
    assert code == 0, out
    first, _, last = units[0]["serialNumberBlock"].partition("-")
    size = int(last[-4:]) - int(first[-4:]) + 1
    assert stats(db_url) == {
        "units": size,
        "by_state": {"issued": size},
        "approach": {"CA0001": size},
        "vintage": {units[0]["vintageYear"]: size},
        "party": {"IDN": size},
    }
    # The test-data request bodies have no createdAt (a create or update request has no
    # issuance date yet): quarantined with the rule that says so, nothing else lost.
    for name in ("new-unit.json", "update-unit.json"):
        code, out = cli(db_url, "ingest", str(CADT / "v1-test-data" / name), *args)
        assert code == 3, out  # its one record quarantined: above the alert share
        assert "records[3].fields.action_date: has no value: column 'createdAt'" in out
    assert stats(db_url)["units"] == size


def _cadt_v2_rows() -> tuple[list[dict[str, Any]], Counter[Any]]:
    """A node's v2 tables written with the schema's own picklist values."""
    schema = json.loads((CADT / "v2" / "cadtrust-schema-v2.0.2.json").read_text("utf-8"))
    picklists = schema["picklists"]
    rows: list[dict[str, Any]] = [
        {
            "aefT2AuthorizationsId": "RWA-AUTH-001",
            "aefT2AuthorizationsDate": "2025-01-15",
            "aefT2AuthorizationsCooperativeApproachId": "RWA-CA-ENERGY-2025",
            "aefT2AuthorizationsVersion": "1.0",
            "aefT2AuthorizationsQuantity": "90000",
            "aefT2AuthorizationsMetric": picklists["aef_t2_authorizations_metric"][0],
            "aefT2AuthorizationsPurposesForAuthorization": "NDC and OIMP",
            "aefT2AuthorizationsAuthorizedPartyId": "Switzerland",
            "aefT2AuthorizationsAuthorizedTimeframe": "2021 to 2030",
            "aefT2AuthorizationsFirstTransferDefinitionOimp": "Authorization",
        }
    ]
    expected: Counter[Any] = Counter()
    for n, action_type in enumerate(picklists["aef_t3_actions_type"]):
        first = 9000 + n * 1000
        rows.append(
            {
                "cadTrustAefT3ActionsId": f"t3-{n}",
                "aefT3ActionsDate": f"2025-0{n + 2}-01T00:00:00.000Z",
                "aefT3ActionsType": action_type,
                "aefT3ActionsCooperativeApproachId": "RWA-CA-ENERGY-2025",
                "aefT3ActionsAuthorizationId": "RWA-AUTH-001",
                "aefT3ActionsFirstTransferringPartyId": "RW",
                "aefT3ActionsPartyItmoRegistryId": "RW",
                "aefT3ActionsItmoFirstId": str(first),
                "aefT3ActionsItmoLastId": str(first + 999),
                "aefT3ActionsUnitRegistryId": "Gold Standard",
                "aefT3ActionsMetric": "GHC",
                "aefT3ActionsQuantityTCo2": "1000",
                "aefT3ActionsMitigationType": picklists["aef_t3_actions_mitigation_type"][n % 2],
                "aefT3ActionsVintageYear": 2024,
                "aefT3ActionsTransferringPartyId": "RW",
                "aefT3ActionsAcquiringPartyId": "CH",
                "aefT3ActionsPurposeOfUseOimp": "NDC",
            }
        )
        expected[("approach", "CAP-RWA-CA-ENERGY-2025")] += 1000
    return rows, expected


def test_cadt_v2_tables(db_url: str, tmp_path: Path) -> None:
    rows, expected = _cadt_v2_rows()
    dump = tmp_path / "cadt-v2.json"
    dump.write_text(json.dumps({"page": 1, "pageCount": 1, "data": rows}), "utf-8")
    code, out = cli(db_url, "ingest", str(dump), "--source", "cadt", "--registry", "RWA01")
    assert code == 0, out
    figures = stats(db_url)
    actions = [r for r in rows if "aefT3ActionsType" in r]
    assert figures["units"] == 1000 * len(actions)
    assert figures["approach"] == {
        "CAP-RWA-CA-ENERGY-2025": expected[("approach", "CAP-RWA-CA-ENERGY-2025")]
    }
    assert figures["party"] == {"RWA": 1000 * len(actions)}
    assert figures["vintage"] == {2024: 1000 * len(actions)}
    stored = query(
        db_url,
        "SELECT action_type, metric, party_registry_id FROM actions ORDER BY action_id",
    )
    assert [r[0] for r in stored] == V2_ACTION_TYPES
    assert {(r[1], r[2]) for r in stored} == {("GHG", "RWA01")}
    (authorization,) = query(
        db_url, "SELECT authorizing_party_id, purposes, timeframe_end FROM authorizations"
    )
    assert authorization[0] == "RWA" and authorization[2] == 2030


def _fill(
    template: Path, sheet: str, first_row: int, rows: list[list[Any]], out: Path, **cells: Any
) -> Path:
    import openpyxl

    workbook = openpyxl.load_workbook(template)
    worksheet = workbook[sheet]
    for ref, value in cells.items():
        worksheet[ref] = value
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            worksheet.cell(row=first_row + offset, column=column, value=value)
    workbook.save(out)
    return out


# As the UNDP registry's export fills the Actions template (row 11 on): record id "NA",
# the approach label, UNDP v2 identifiers, "tCO2", alpha-2 Parties, epoch milliseconds,
# its enum values for action types; and as a Party typing into it by hand.
UNDP_ACTIONS = [
    [
        "NA",
        "Article 6.2",
        "CA0001-MN-MN-356-1-3000-2023",
        "CA0001-MN-MN-356-1-3000-2023",
        "CA0001-MN-MN-356-1-1-2023",
        "CA0001-MN-MN-356-3000-3000-2023",
        "tCO2",
        "NA",
        3000,
        "NA",
        "MN",
        "2023",
        "Energy",
        "Solar",
        1704844800000,
        "100124MN356",
        "NDC and OIMP",
        "NA",
        "Authorisation",
        1706745600000,
        "authorization",
        "MN",
        "JP",
        "NDC",
        "NA",
        "MN",
    ],
    [
        "REC-2",
        "CA0001",
        "CA0001-MN-MN-356-3001-4000-2023",
        "CA0001-MN-MN-356-3001-4000-2023",
        None,
        None,
        "tCO2",
        None,
        1000,
        None,
        "Mongolia",
        "2023",
        None,
        None,
        dt.datetime(2024, 1, 10),
        "100124MN356",
        "NDC and OIMP",
        None,
        "Authorization",
        dt.datetime(2024, 2, 4),
        "firstTransfer",
        "MN",
        "Japan",
        None,
        None,
        "MN",
    ],
    [
        "REC-3",
        "CA0001",
        "CA0001-MN-MN-357-1-500-2024",
        "CA0001-MN-MN-357-1-500-2024",
        None,
        None,
        "tCO2",
        None,
        500,
        None,
        "MN",
        2024,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "2024-06-30",
        "transfer",
        "MN",
        "JP",
        None,
        None,
        "MN",
    ],
]


def _undp_units(rows: list[list[Any]]) -> tuple[int, Counter[int]]:
    units, vintages = 0, Counter()
    for row in rows:
        _ca, _o, _p, _project, start, end, vintage = row[2].split("-")
        units += int(end) - int(start) + 1
        vintages[int(vintage)] += int(end) - int(start) + 1
    return units, vintages


def test_aef_undp_actions_template(db_url: str, tmp_path: Path) -> None:
    filled = _fill(
        UNDP / "aef_actions_template.xlsx",
        "Actions",
        11,
        UNDP_ACTIONS,
        tmp_path / "actions.xlsx",
        B3="Mongolia",
        B4=2024,
    )
    code, out = cli(db_url, "ingest", str(filled), "--source", "aef-undp")
    assert code == 0, out
    units, vintages = _undp_units(UNDP_ACTIONS)
    figures = stats(db_url)
    assert figures["units"] == units
    assert figures["vintage"] == dict(vintages)
    assert figures["party"] == {"MNG": units} and figures["approach"] == {"CA0001": units}
    # The authorization columns of the action rows became the authorization they state.
    (authorization,) = query(
        db_url,
        "SELECT registry_id, authorization_id, authorization_date, authorizing_party_id, "
        "first_transfer_definition_oimp FROM authorizations",
    )
    assert tuple(authorization)[:2] == ("MNG01", "100124MN356")
    assert str(authorization[2]) == "2024-01-10" and tuple(authorization)[3:] == (
        "MNG",
        "Authorization",
    )
    types = query(db_url, "SELECT action_type, first_id, last_id FROM actions ORDER BY first_id")
    assert [tuple(r) for r in types] == [
        ("Authorization", 356000000000001, 356000000003000),
        ("First transfer", 356000000003001, 356000000004000),
        ("Transfer", 357000000000001, 357000000000500),
    ]


def test_aef_undp_holdings_template(db_url: str, tmp_path: Path) -> None:
    holdings = [row[:19] for row in UNDP_ACTIONS]
    filled = _fill(
        UNDP / "aef_holdings_template.xlsx", "Holdings", 7, holdings, tmp_path / "h.xlsx"
    )
    code, out = cli(db_url, "ingest", str(filled), "--source", "aef-undp")
    # The holdings template has no date: without the reported year every row says so.
    assert code == 3 and "none of heading_year, reported_year has a value" in out, out
    assert stats(db_url)["units"] == 0
    code, out = cli(
        db_url, "ingest", str(filled), "--source", "aef-undp", "--param", "reported_year=2024"
    )
    assert code == 0, out
    units, vintages = _undp_units(holdings)
    figures = stats(db_url)
    assert figures["units"] == units and figures["by_state"] == {"held": units}
    assert figures["vintage"] == dict(vintages)
    accounts = query(db_url, "SELECT DISTINCT as_of, account_id, account_type FROM holdings")
    assert [(str(a), b, c) for a, b, c in accounts] == [("2024-12-31", "AEF-T4", "holding")]
