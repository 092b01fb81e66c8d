"""AEF tables: the real UNDP templates filled with records read back to the same records;
the AEF connector re-reads a file only when it changes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
import respx
from sqlalchemy import Engine

from metareg.connectors.aef.columns import (
    ACTIONS,
    AUTHORIZATIONS,
    HOLDINGS,
    AefContext,
    record_to_row,
)
from metareg.connectors.aef.reader import AefReadError, read_aef
from metareg.connectors.errors import ConnectorError, ErrorClass, MalformedResponse
from metareg.registries import RegistryConfig
from metareg.sync.engine import sync_registry
from tests.conftest import NO_REAL_DATA, REAL_DATA
from tests.connectors.conftest import BASE, make
from tests.sync.index_state import current

TEMPLATES = REAL_DATA / "aef" / "undp"

ACTION = {
    "record_type": "action",
    "action_id": "FT-5",
    "action_date": "2024-03-15",
    "action_type": "First transfer",
    "authorization_id": "IDN-2023-0001",
    "cooperative_approach_id": "CA0001",
    "party_registry_id": "IDN01",
    "first_transferring_party_id": "IDN",
    "first_id": 1,
    "last_id": 50000,
    "vintage": 2023,
    "metric": "GHG",
    "quantity_tco2e": 50000,
    "acquiring_party_id": "JPN",
    "sectors": ["Energy", "Waste"],
    "underlying_registry_id": "VCS",
    "first_unit_id": "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
    "last_unit_id": "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
    "mitigation_type": "Removals",
}
HOLDING = {
    "record_type": "holding",
    "as_of": "2024-12-31",
    "account_id": "IDN-GOV-1",
    "account_type": "government-holding",
    "cooperative_approach_id": "CA0001",
    "party_registry_id": "IDN01",
    "first_transferring_party_id": "IDN",
    "first_id": 50001,
    "last_id": 122000,
    "vintage": 2023,
    "metric": "GHG",
}


def fill_template(name: str, header_row: int, table: Any, records: list[dict]) -> bytes:
    """The real template, its heading filled, metareg's extra labels after the template's
    own, then one row per record. Skips the test (saying why) when the real templates
    are absent."""
    if not (TEMPLATES / name).is_file():
        pytest.skip(NO_REAL_DATA)
    workbook = openpyxl.load_workbook(TEMPLATES / name)
    sheet = workbook.active
    for row in sheet.iter_rows(max_row=header_row):
        for cell in row:
            if cell.value == "Party":
                sheet.cell(cell.row, cell.column + 1, "IDN")
            if cell.value == "Reported year":
                sheet.cell(cell.row, cell.column + 1, 2024)
    for index, label in enumerate(table.labels(), start=1):
        if index > sheet.max_column:  # metareg's extra columns after the template's own
            sheet.cell(header_row, index, label)
    for offset, record in enumerate(records, start=1):
        for index, value in enumerate(record_to_row(table, record), start=1):
            sheet.cell(header_row + offset, index, value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_real_templates_round_trip() -> None:
    actions = read_aef(fill_template("aef_actions_template.xlsx", 10, ACTIONS, [ACTION]), "a.xlsx")
    assert [row.record for row in actions] == [ACTION]
    assert actions[0].location == "Actions!R11"
    holdings = read_aef(
        fill_template("aef_holdings_template.xlsx", 6, HOLDINGS, [HOLDING]), "h.xlsx"
    )
    assert [row.record for row in holdings] == [HOLDING]


def test_holdings_without_date_take_the_reported_year() -> None:
    """The holdings template has no heading block: the year comes from the configuration."""
    undated = {k: v for k, v in HOLDING.items() if k != "as_of"}
    content = fill_template("aef_holdings_template.xlsx", 6, HOLDINGS, [undated])
    (row,) = read_aef(content, "h.xlsx", AefContext("IDN", 2024))
    assert row.record is not None and row.record["as_of"] == "2024-12-31"


def test_authorizations_csv_with_heading_lines() -> None:
    record = {
        "record_type": "authorization",
        "authorization_id": "IDN-2023-0001",
        "authorization_date": "2023-03-01",
        "cooperative_approach_id": "CA0001",
        "version": 2,
        "authorized_quantity": 200000,
        "metric": "GHG",
        "purposes": ["NDC", "OIMP"],
        "authorized_party_ids": ["JPN"],
        "timeframe_start": 2023,
        "timeframe_end": 2030,
        "authorizing_party_id": "IDN",
    }
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Party", "IDN"])
    writer.writerow(AUTHORIZATIONS.labels())
    writer.writerow(["" if v is None else v for v in record_to_row(AUTHORIZATIONS, record)])
    (row,) = read_aef(out.getvalue().encode(), "t2.csv", AefContext())
    assert row.record == record


def test_unreadable_rows_keep_their_reasons() -> None:
    bad = {**ACTION}
    content = fill_template("aef_actions_template.xlsx", 10, ACTIONS, [bad])
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    workbook.active.cell(11, 3, "CA0001-IDN01-IDN-1-2023")  # first identifier: other block
    workbook.active.cell(11, 4, "not an identifier")
    out = io.BytesIO()
    workbook.save(out)
    (row,) = read_aef(out.getvalue(), "a.xlsx")
    assert row.record is None
    assert any("Last unique identifier" in p for p in row.problems)


def test_not_a_workbook_is_refused() -> None:
    with pytest.raises(AefReadError):
        read_aef(b"PK\x03\x04garbage", "x.xlsx")
    with pytest.raises(AefReadError):
        read_aef(b"a,b,c\n1,2,3\n", "x.csv")


def aef_registry(where: dict[str, Any]) -> RegistryConfig:
    connector = {"type": "aef", "page_size": 1, **where}
    return RegistryConfig("IDN01", "t", "IDN", {"connector": connector})


def test_aef_file_synced_once_per_content(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "aef.xlsx"
    second = {**ACTION, "action_id": "FT-6", "first_id": 60000, "last_id": 60010}
    path.write_bytes(fill_template("aef_actions_template.xlsx", 10, ACTIONS, [ACTION, second]))
    registry = aef_registry({"path": str(path)})
    first = sync_registry(engine, registry)
    assert first.ok and first.counts.accepted == 2 and first.pages == 2
    again = sync_registry(engine, registry)
    assert again.ok and again.pages == 0  # same content: not re-read
    # The Party's next file drops FT-6: it is withdrawn.
    path.write_bytes(fill_template("aef_actions_template.xlsx", 10, ACTIONS, [ACTION]))
    third = sync_registry(engine, registry)
    assert third.ok and third.counts.withdrawn == 1
    assert {uid for _, kind, uid, _ in current(engine)} == {"FT-5"}


@respx.mock
def test_aef_url_uses_etag() -> None:
    content = fill_template("aef_actions_template.xlsx", 10, ACTIONS, [ACTION])
    route = respx.get(f"{BASE}/aef.xlsx").mock(
        side_effect=[
            httpx.Response(200, content=content, headers={"ETag": '"v1"'}),
            httpx.Response(304),
        ]
    )
    connector = make({"type": "aef", "url": f"{BASE}/aef.xlsx"})
    (page,) = list(connector.pages(None))
    assert page.items[0].value == ACTION
    assert list(connector.pages(page.cursor)) == []
    assert route.calls[1].request.headers["If-None-Match"] == '"v1"'


@respx.mock
def test_aef_url_retry_401_and_malformed() -> None:
    respx.get(f"{BASE}/a.csv").mock(side_effect=[httpx.Response(500), httpx.Response(401)])
    with pytest.raises(ConnectorError) as raised:
        list(make({"type": "aef", "url": f"{BASE}/a.csv"}).pages(None))
    assert raised.value.kind is ErrorClass.CONFIG
    respx.get(f"{BASE}/b.csv").mock(return_value=httpx.Response(200, content=b"\xff\xfe"))
    with pytest.raises(MalformedResponse):
        list(make({"type": "aef", "url": f"{BASE}/b.csv"}).pages(None))
