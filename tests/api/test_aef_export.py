"""GET /v1/aef/{party}/{year}: tables 2-4 from the index as JSON, CSV zip and XLSX."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

from openpyxl import load_workbook

from metareg.connectors.aef.columns import ACTIONS, AUTHORIZATIONS, HOLDINGS
from metareg.connectors.aef.reader import read_csv
from metareg.oversight.aef import RESULT_LABEL
from metareg.records.canonical import normalize
from tests.api.conftest import AUTH_ID, Api, plant_double_use
from tests.helpers import action, authorization, holding


def export(api: Api, party: str, year: int, fmt: str = "json") -> Any:
    response = api.client.get(
        f"/v1/aef/{party}/{year}", params={"format": fmt}, headers=api.oversight
    )
    assert response.status_code == 200, response.text
    return response


def column(table: dict[str, Any], label: str) -> list[Any]:
    index = table["columns"].index(label)
    return [row[index] for row in table["rows"]]


def test_json_tables_follow_the_aef_labels_and_the_party(world: Api) -> None:
    body = export(world, "IDN", 2024).json()
    tables = {t["table"]: t for t in body["tables"]}
    assert sorted(tables) == [2, 3, 4]
    assert tables[2]["columns"] == AUTHORIZATIONS.labels()
    assert tables[3]["columns"][: len(ACTIONS.labels())] == ACTIONS.labels()
    assert RESULT_LABEL in tables[3]["columns"]
    assert tables[4]["columns"] == HOLDINGS.labels()
    assert column(tables[2], "Authorization ID") == [AUTH_ID]
    assert column(tables[3], "Action type") == ["Issuance", "First transfer"]
    assert column(tables[3], "First unique identifier") == [
        "CA0001-IDN01-IDN-1-2023",
        "CA0001-IDN01-IDN-1-2023",
    ]
    assert column(tables[4], "Account ID") == ["IDN-GOV-1"]
    japan = {t["table"]: t for t in export(world, "JPN", 2024).json()["tables"]}
    assert japan[2]["rows"] == []  # Japan authorized nothing
    assert column(japan[3], "Action type") == ["Acquisition", "Use"]
    assert export(world, "IDN", 2023).json()["tables"][1]["rows"] == []


def test_action_rows_carry_the_codes_of_the_rules_that_touch_them(world: Api) -> None:
    plant_double_use(world)
    actions = export(world, "IDN", 2024).json()["tables"][1]
    results = dict(
        zip(column(actions, "Article 6 database record ID"), column(actions, RESULT_LABEL))
    )
    assert "DC05" in results["USE-X"]
    assert results["ISS-1"] is None


def test_holdings_at_31_december_come_from_history_after_a_newer_snapshot(world: Api) -> None:
    world.ingest("JPN01", [holding("JPN-ACC-1", 1, 30000, as_of="2025-06-30")])
    holdings = export(world, "JPN", 2024).json()["tables"][2]
    assert column(holdings, "Account ID") == ["JPN-ACC-1"]
    assert column(holdings, "Last unique identifier") == ["CA0001-IDN01-IDN-40000-2023"]


HOSTILE = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)"]


def hostile_world(api: Api) -> None:
    api.ingest(
        "IDN01",
        [
            authorization(f"IDN-H{n}", authorization_date="2024-05-01", terms=text)
            for n, text in enumerate(HOSTILE)
        ],
    )


def test_csv_zip_has_one_file_per_table_and_neutralises_formulas(world: Api) -> None:
    hostile_world(world)
    response = export(world, "IDN", 2024, "csv")
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert len(names) == 3 and all(n.endswith(".csv") for n in names)
    text = archive.read(next(n for n in names if "table2" in n)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    for value in HOSTILE:
        assert "'" + value in cells
        assert value not in cells


def test_xlsx_opens_with_openpyxl_and_holds_no_formula(world: Api) -> None:
    hostile_world(world)
    response = export(world, "IDN", 2024, "xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Submission",
        "Authorizations",
        "Actions",
        "Holdings",
        "Authorized entities",
    ]
    every = [c for sheet in workbook for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in every if c.data_type == "f"]
    values = [
        c for row in workbook["Authorizations"].iter_rows() for c in row if c.value is not None
    ]
    texts = {c.value for c in values}
    for value in HOSTILE:
        assert "'" + value in texts
    # Actions as in the UNDP template: the heading, the title in row 7, the labels in row
    # 10 (those of columns A, B and S merged down from row 8), the data from row 11.
    actions = list(workbook["Actions"].iter_rows(values_only=True))
    assert actions[2][:2] == ("Party", "Indonesia") and actions[3][:2] == ("Reported year", 2024)
    assert actions[6][0] == "Table 2: Actions"
    header = actions[9]
    assert header[0] is None and actions[7][0] == ACTIONS.labels()[0]
    assert list(header[2:18]) == ACTIONS.labels()[2:18]
    assert RESULT_LABEL in header
    ids = [row[0] for row in actions[10:]]
    assert ids == ["ISS-1", "FT-1"]


def index_records(api: Api, record_type: str, registries: set[str]) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from metareg.db.tables.index import CURRENT_TABLES
    from metareg.index.query import canonical

    table = CURRENT_TABLES[record_type]
    with api.engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.registry_id.in_(registries)))
        return [canonical(record_type, row) for row in rows]


def key(record: dict[str, Any]) -> str:
    return json.dumps(normalize(record), sort_keys=True)


def test_csv_export_reads_back_through_the_aef_connector_to_the_same_records(world: Api) -> None:
    world.ingest(
        "IDN01",
        [
            authorization(
                "IDN-2024-0002",
                authorization_date="2024-06-01",
                purposes=["NDC", "OIMP"],
                timeframe_start=2024,
                timeframe_end=2030,
                terms="Net of the share of proceeds",
                first_transfer_definition_oimp="Authorization",
            ),
            action(
                "ISS-7",
                200001,
                200500,
                action_date="2024-08-01",
                sectors=["Energy", "Waste"],
                activity_types=["Solar"],
                mitigation_type="Emission reductions",
                quantity_tco2e=500,
                underlying_registry_id="VCS",
                first_unit_id="19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
                last_unit_id="19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
            ),
        ],
    )
    for party, registry in (("IDN", "IDN01"), ("JPN", "JPN01")):
        archive = zipfile.ZipFile(io.BytesIO(export(world, party, 2024, "csv").content))
        read: dict[str, list[dict[str, Any]]] = {}
        for name in archive.namelist():
            rows = read_csv(archive.read(name))
            assert all(not row.problems for row in rows), [row.problems for row in rows]
            for row in rows:
                assert row.record is not None
                read.setdefault(row.record["record_type"], []).append(row.record)
        for record_type in ("authorization", "action", "holding"):
            stored = index_records(world, record_type, {registry})
            if record_type == "authorization":
                stored = [r for r in stored if r["authorizing_party_id"] == party]
            assert sorted(map(key, read.get(record_type, []))) == sorted(map(key, stored)), (
                party,
                record_type,
            )
