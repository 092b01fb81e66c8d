"""The CADT connector against a mocked CADT node (respx)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from metareg.connectors.errors import ConnectorError, ErrorClass, MalformedResponse
from tests.conftest import NO_REAL_DATA, REAL_DATA
from tests.connectors.conftest import BASE, Sleeps, make

# The v2.0.2 picklist's action types, as RECORDS.md spells them.
V2_ACTION_TYPES = [
    "Acquisition",
    "Authorization",
    "Cancellation",
    "First transfer",
    "Transfer",
    "Use",
]
UNIT_STUBS = REAL_DATA / "cadt" / "v1-stubs" / "units.stub.json"
needs_real_data = pytest.mark.skipif(not UNIT_STUBS.is_file(), reason=NO_REAL_DATA)

T2 = f"{BASE}/v2/aef-t2-authorizations"
T3 = f"{BASE}/v2/aef-t3-actions"
UNITS = f"{BASE}/v1/units"

AUTH = {
    "cadTrustAefT2AuthorizationsId": "5a0c...",
    "aefT2AuthorizationsId": "IDN-2023-0001",
    "aefT2AuthorizationsDate": "2023-03-01T00:00:00.000Z",
    "aefT2AuthorizationsCooperativeApproachId": "CA0001",
    "aefT2AuthorizationsVersion": "1",
    "aefT2AuthorizationsMetric": "GHG",
    "aefT2AuthorizationsPurposesForAuthorization": "NDC and OIMP",
    "aefT2AuthorizationsAuthorizedPartyId": "JPN",
    "aefT2AuthorizationsAuthorizedTimeframe": "2023 - 2030",
    "createdAt": "2024-01-01",
}


def action_row(n: int) -> dict:
    return {
        "cadTrustAefT3ActionsId": f"act-{n}",
        "aefT3ActionsDate": "2024-03-15",
        "aefT3ActionsType": "Issuance",
        "aefT3ActionsCooperativeApproachId": "CA0001",
        "aefT3ActionsFirstTransferringPartyId": "IDN",
        "aefT3ActionsPartyItmoRegistryId": "IDN01",
        "aefT3ActionsItmoFirstId": str(n * 10 + 1),
        "aefT3ActionsItmoLastId": str(n * 10 + 10),
        "aefT3ActionsVintageYear": 2023,
        "aefT3ActionsMetric": "GHG",
        "aefT3ActionsQuantityTCo2": "10",
    }


def connector(sleeps: Sleeps | None = None, **options: object):  # type: ignore[no-untyped-def]
    return make({"type": "cadt", "url": BASE, "limit": 2, "holdings": False, **options}, sleeps)


def paged(rows: list, page: int, count: int) -> httpx.Response:
    return httpx.Response(200, json={"page": page, "pageCount": count, "data": rows})


@respx.mock
def test_tables_paged_and_mapped_to_canonical_records() -> None:
    respx.get(T2).mock(return_value=paged([AUTH], 1, 1))
    actions = respx.get(T3).mock(
        side_effect=[paged([action_row(1), action_row(2)], 1, 2), paged([action_row(3)], 2, 2)]
    )
    pages = list(connector().pages(None))
    assert actions.calls[1].request.url.params["page"] == "2"
    assert actions.calls[1].request.url.params["limit"] == "2"
    values = [item.value for page in pages for item in page.items]
    assert values[0] == {
        "record_type": "authorization",
        "authorization_id": "IDN-2023-0001",
        "authorization_date": "2023-03-01",
        "cooperative_approach_id": "CA0001",
        "version": 1,
        "metric": "GHG",
        "purposes": ["NDC", "OIMP"],
        "authorized_party_ids": ["JPN"],
        "timeframe_start": 2023,
        "timeframe_end": 2030,
        "authorizing_party_id": "IDN",
    }
    assert [v["action_id"] for v in values[1:]] == ["act-1", "act-2", "act-3"]
    assert values[1]["first_id"] == 11 and values[1]["last_id"] == 20
    assert pages[0].pass_start and pages[-1].pass_end and pages[-1].cursor is None


@respx.mock
def test_resumes_from_the_committed_page() -> None:
    respx.get(T2).mock(return_value=paged([AUTH], 1, 1))
    respx.get(T3).mock(side_effect=[paged([action_row(1)], 1, 2), paged([action_row(3)], 2, 2)])
    pages = list(connector().pages(None))
    resume = respx.get(T3).mock(return_value=paged([action_row(3)], 2, 2))
    again = list(connector().pages(pages[1].cursor))
    assert resume.calls.last.request.url.params["page"] == "2" and len(again) == 1


@respx.mock
def test_retry_then_success_and_401(sleeps: Sleeps) -> None:
    respx.get(T2).mock(side_effect=[httpx.Response(503), paged([AUTH], 1, 1)])
    respx.get(T3).mock(return_value=httpx.Response(401))
    with pytest.raises(ConnectorError) as raised:
        list(connector(sleeps).pages(None))
    assert raised.value.kind is ErrorClass.CONFIG and len(sleeps) == 1


@respx.mock
def test_malformed_body() -> None:
    respx.get(T2).mock(return_value=httpx.Response(200, json={"rows": []}))
    with pytest.raises(MalformedResponse):
        list(connector().pages(None))


@needs_real_data
@respx.mock
def test_v1_units_become_issuances_via_the_serial_parsers() -> None:
    unit = json.loads(UNIT_STUBS.read_text())[0]
    respx.get(T2).mock(return_value=paged([], 1, 0))
    respx.get(T3).mock(return_value=paged([], 1, 0))
    respx.get(UNITS).mock(return_value=paged([unit, {**unit, "serialNumberBlock": "??"}], 1, 1))
    pages = list(connector(units=True, cooperative_approach_id="CA0001").pages(None))
    good, bad = pages[-1].items
    assert good.value["action_type"] == "Issuance"
    assert (good.value["first_id"], good.value["last_id"]) == (1000, 1010)
    assert good.value["vintage"] == 2020 and good.value["action_id"] == unit["warehouseUnitId"]
    assert bad.problems


@needs_real_data
@respx.mock
def test_v1_only_node_its_v2_tables_answer_404() -> None:
    units = json.loads(UNIT_STUBS.read_text())
    respx.get(T2).mock(return_value=httpx.Response(404))
    respx.get(T3).mock(return_value=httpx.Response(404))
    respx.get(UNITS).mock(return_value=paged(units, 1, 1))
    pages = list(connector(units=True).pages(None))
    values = [item.value for page in pages for item in page.items]
    assert [v["action_type"] for v in values] == ["Issuance"]
    # No cooperative_approach_id configured: v1 names none, so the approach is provisional.
    assert values[0]["cooperative_approach_id"] == "CAP-IDN-CADT-V1"
    assert pages[0].pass_start and pages[-1].pass_end and pages[-1].cursor is None


@respx.mock
def test_v2_only_node_its_v1_units_answer_404() -> None:
    respx.get(T2).mock(return_value=paged([AUTH], 1, 1))
    respx.get(T3).mock(return_value=paged([action_row(1)], 1, 1))
    respx.get(UNITS).mock(return_value=httpx.Response(404))
    values = [item.value for page in connector(units=True).pages(None) for item in page.items]
    assert [v["record_type"] for v in values] == ["authorization", "action"]


@respx.mock
def test_a_node_serving_no_table_fails_before_any_page() -> None:
    respx.get(T2).mock(return_value=httpx.Response(404))
    respx.get(T3).mock(return_value=httpx.Response(404))
    pages = connector().pages(None)
    with pytest.raises(ConnectorError) as raised:
        next(pages)
    assert raised.value.kind is ErrorClass.CONFIG and "serves none" in str(raised.value)


@respx.mock
@pytest.mark.skipif(
    not (REAL_DATA / "cadt" / "v2" / "cadtrust-schema-v2.0.2.json").is_file(), reason=NO_REAL_DATA
)
def test_v2_0_2_picklist_spellings_are_read() -> None:
    """The official picklist values, the list's own typo GHC included."""
    schema = json.loads((REAL_DATA / "cadt" / "v2" / "cadtrust-schema-v2.0.2.json").read_text())
    picklists = schema["picklists"] if schema else {}
    rows = []
    for n, action_type in enumerate(picklists["aef_t3_actions_type"], start=1):
        row = action_row(n)
        row["aefT3ActionsType"] = action_type
        row["aefT3ActionsMetric"] = picklists["aef_t2_authorizations_metric"][n % 2]
        row["aefT3ActionsMitigationType"] = picklists["aef_t3_actions_mitigation_type"][n % 2]
        row["aefT3ActionsAuthorizationId"] = "IDN-2023-0001"
        rows.append(row)
    auths = [
        {
            **AUTH,
            "aefT2AuthorizationsId": f"A-{n}",
            "aefT2AuthorizationsPurposesForAuthorization": p,
        }
        for n, p in enumerate(picklists["aef_t2_authorizations_purposes_for_authorization"])
    ]
    auths += [
        {
            **AUTH,
            "aefT2AuthorizationsId": f"F-{n}",
            "aefT2AuthorizationsFirstTransferDefinitionOimp": d,
        }
        for n, d in enumerate(picklists["aef_t2_authorizations_first_transfer_definition_oimp"])
    ]
    respx.get(T2).mock(return_value=paged(auths, 1, 1))
    respx.get(T3).mock(return_value=paged(rows, 1, 1))
    items = [item for page in connector().pages(None) for item in page.items]
    assert not [item.problems for item in items if item.problems]
    actions = [i.value for i in items if i.value["record_type"] == "action"]
    assert {a["action_type"] for a in actions} == set(V2_ACTION_TYPES)
    assert {a["metric"] for a in actions} == {"GHG", "non-GHG"}
    purposes = {tuple(i.value["purposes"]) for i in items if i.value["authorization_id"][0] == "A"}
    assert purposes == {
        ("IMP",),
        ("NDC",),
        ("NDC", "IMP"),
        ("NDC", "OIMP"),
        ("NDC", "OP"),
        ("OIMP",),
        ("OP",),
    }


@respx.mock
def test_a_value_outside_the_picklists_is_a_row_problem_naming_the_map() -> None:
    respx.get(T2).mock(return_value=paged([], 1, 1))
    bad = {**action_row(1), "aefT3ActionsType": "Teleport"}
    respx.get(T3).mock(return_value=paged([bad, action_row(2)], 1, 1))
    items = [item for page in connector().pages(None) for item in page.items]
    assert items[0].problems and "map action_type" in items[0].problems[0]
    assert "cadt.toml:" in items[0].problems[0] and not items[1].problems
