"""The tabular connector: a real Verra export mapped declaratively, and a real JCM export
through its shipped profile (respx for the URL)."""

from __future__ import annotations

import httpx
import pytest
import respx

from metareg.connectors.errors import ConnectorError, ErrorClass, MalformedResponse
from tests.conftest import NO_REAL_DATA, REAL_DATA
from tests.connectors.conftest import BASE, Sleeps, make

URL = f"{BASE}/exports/transactions.csv"
VERRA_FILE = REAL_DATA / "verra" / "transactions.csv"
JCM_FILE = REAL_DATA / "jcm" / "issuance_records.csv"
pytestmark = pytest.mark.skipif(not VERRA_FILE.is_file(), reason=NO_REAL_DATA)
VERRA = VERRA_FILE.read_bytes() if VERRA_FILE.is_file() else b""


def connector(sleeps: Sleeps | None = None, **options: object):  # type: ignore[no-untyped-def]
    return make(
        {
            "type": "tabular",
            "url": URL,
            "page_size": 50,
            "record_type": "action",
            "columns": {
                "action_id": "Serial Number",
                "action_date": {"column": "Issuance Date", "as": "date"},
                "vintage": {"column": "Vintage Start", "as": "year"},
                "quantity_tco2e": {"column": "Quantity Issued", "as": "number"},
            },
            "constants": {
                "action_type": "Issuance",
                "cooperative_approach_id": "CA0001",
                "party_registry_id": "IDN01",
                "first_transferring_party_id": "IDN",
                "first_id": 1,
                "last_id": 1,
            },
            "underlying": {"registry": "VCS", "serial": "Serial Number"},
            **options,
        },
        sleeps,
    )


@respx.mock
def test_real_export_mapped_in_pages() -> None:
    respx.get(URL).mock(return_value=httpx.Response(200, content=VERRA))
    pages = list(connector().pages(None))
    items = [item for page in pages for item in page.items]
    assert len(pages) == 4 and len(items) == 200  # 200 rows, pages of 50
    first = items[0].value
    assert first["action_date"] == "2026-04-03" and first["vintage"] == 2020
    assert first["underlying_registry_id"] == "VCS"
    assert first["first_unit_id"].startswith("19385-941467007-941467431-VCS")
    assert first["quantity_tco2e"] == 425
    assert pages[0].pass_start and pages[-1].pass_end


@respx.mock
def test_bad_serial_is_a_row_problem_not_a_failure() -> None:
    broken = VERRA.replace(b"19385-941467007-941467431-VCS", b"19385-941467007-9414-VCS", 1)
    respx.get(URL).mock(return_value=httpx.Response(200, content=broken))
    items = [item for page in connector().pages(None) for item in page.items]
    assert items[0].problems and not any(item.problems for item in items[1:])


@respx.mock
def test_cursor_resumes_mid_file_and_retry_then_success(sleeps: Sleeps) -> None:
    respx.get(URL).mock(side_effect=[httpx.Response(502), httpx.Response(200, content=VERRA)])
    first = next(iter(connector(sleeps).pages(None)))
    assert len(sleeps) == 1
    respx.get(URL).mock(return_value=httpx.Response(200, content=VERRA))
    rest = list(connector().pages(first.cursor))
    assert sum(len(p.items) for p in rest) == 150 and not rest[0].pass_start


@respx.mock
def test_401_and_malformed() -> None:
    respx.get(URL).mock(return_value=httpx.Response(403))
    with pytest.raises(ConnectorError) as raised:
        list(connector().pages(None))
    assert raised.value.kind is ErrorClass.CONFIG
    respx.get(URL).mock(return_value=httpx.Response(200, content=b'a,"b\n1,2'))
    with pytest.raises(MalformedResponse):
        list(connector(format="csv").pages(None))


@respx.mock
def test_source_profile_maps_the_real_jcm_export() -> None:
    url = f"{BASE}/exports/issuance_records.csv"
    respx.get(url).mock(return_value=httpx.Response(200, content=JCM_FILE.read_bytes()))
    pages = list(make({"type": "tabular", "url": url, "source": "jcm-credits"}).pages(None))
    items = [item for page in pages for item in page.items]
    # 22 rows, 4 of them notified but not issued: skipped, not items.
    assert len(items) == 18 and not any(item.problems for item in items)
    assert {item.value["party_registry_id"] for item in items} == {"JPN01", "MNG01"}
    assert sum(item.value["quantity_tco2e"] for item in items) == 123_096
    assert {note.id for item in items for note in item.approaches} == {"CAP-MNG-JPN-JCM"}


def test_unknown_source_profile_is_a_configuration_error() -> None:
    connector = make({"type": "tabular", "path": str(JCM_FILE), "source": "jcm-credit"})
    with pytest.raises(ConnectorError) as raised:
        list(connector.pages(None))
    assert raised.value.kind is ErrorClass.CONFIG and "jcm-credits" in str(raised.value)
