"""The index endpoints (itmos, blocks, registries, stats, health) on both backends."""

from __future__ import annotations

import pytest

from tests.api.conftest import AUTH_ID, Api, correct_a_use
from tests.helpers import action

PROBLEM = "application/problem+json"


def test_itmo_shows_records_state_and_history_with_corrections(world: Api) -> None:
    correct_a_use(world)  # the old content must stay in the history
    response = world.client.get("/v1/itmos/CA0001-IDN01-IDN-45000-2023", headers=world.oversight)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["identifier"] == "CA0001-IDN01-IDN-45000-2023"
    assert body["state"]["state"] == "used"
    (segment,) = body["state"]["segments"]
    assert segment["use"]["registry"] == "JPN01"
    assert segment["use"]["purpose"] == "NDC"
    assert segment["first_transfer"]["acquiring_party_id"] == "JPN"
    covering = {(r["registry"], r["record_id"]) for r in body["records"]}
    assert covering == {
        ("IDN01", "ISS-1"),
        ("IDN01", "FT-1"),
        ("JPN01", "ACQ-1"),
        ("JPN01", "USE-1"),
    }
    use = next(r for r in body["records"] if r["record_id"] == "USE-1")
    assert [h["change"] for h in use["history"]] == ["new", "correction"]
    assert use["history"][0]["record"]["action_date"] == "2024-06-01"
    assert use["record"]["action_date"] == "2024-06-02"
    assert [a["record"]["authorization_id"] for a in body["authorizations"]] == [AUTH_ID]


def test_itmo_block_spanning_states_is_mixed_with_holders(world: Api) -> None:
    response = world.client.get(
        "/v1/itmos/CA0001-IDN01-IDN-39001-60000-2023", headers=world.oversight
    )
    body = response.json()
    assert body["state"]["state"] == "mixed"
    assert body["state"]["quantity_by_state"] == {
        "transferred": 1000,
        "used": 10000,
        "issued": 10000,
    }
    held = [s for s in body["state"]["segments"] if s["holders"]]
    assert {h["account_id"] for s in held for h in s["holders"]} == {"JPN-ACC-1", "IDN-GOV-1"}


@pytest.mark.parametrize(
    ("identifier", "part"),
    [
        ("CA001-IDN01-IDN-1-2023", "cooperative approach"),
        ("CA0001-IDN1-IDN-1-2023", "originating registry"),
        ("CA0001-IDN01-idn-1-2023", "first transferring Party"),
        ("CA0001-IDN01-IDN-01-2023", "first serial"),
        ("CA0001-IDN01-IDN-5-2-2023", "serial range"),
        ("CA0001-IDN01-IDN-1-1999", "vintage"),
        ("CA0001-IDN01", "format"),
    ],
)
def test_malformed_identifier_is_422_naming_the_part(
    sqlite_api: Api, identifier: str, part: str
) -> None:
    response = sqlite_api.client.get(f"/v1/itmos/{identifier}", headers=sqlite_api.oversight)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["part"] == part
    assert body["status"] == 422 and part in body["detail"]


def test_itmo_not_in_index_is_404_problem(world: Api) -> None:
    response = world.client.get("/v1/itmos/CA0009-IDN01-IDN-1-2023", headers=world.oversight)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "CA0009-IDN01-IDN-1-2023" in response.json()["detail"]


def test_blocks_filters_and_derived_state(world: Api) -> None:
    get = world.client.get
    body = get("/v1/blocks", params={"action_type": "Use"}, headers=world.oversight).json()
    assert [(i["record_id"], i["state"]) for i in body["items"]] == [("USE-1", "used")]
    body = get("/v1/blocks", params={"holder": "JPN-ACC-1"}, headers=world.oversight).json()
    assert [i["record_type"] for i in body["items"]] == ["holding"]
    assert body["items"][0]["record"]["account_id"] == "JPN-ACC-1"
    body = get("/v1/blocks", params={"holder": "IDN01"}, headers=world.oversight).json()
    assert [i["record"]["account_id"] for i in body["items"]] == ["IDN-GOV-1"]
    body = get(
        "/v1/blocks", params={"serial_from": 60000, "serial_to": 70000}, headers=world.oversight
    ).json()
    assert [i["record_id"] for i in body["items"]] == ["ISS-1"]
    body = get("/v1/blocks", params={"state": "used"}, headers=world.oversight).json()
    assert {i["record_id"] for i in body["items"]} == {"USE-1"}
    body = get("/v1/blocks", params={"vintage_from": 2024}, headers=world.oversight).json()
    assert body["items"] == []
    wrong = get(
        "/v1/blocks", params={"holder": "X", "record_type": "action"}, headers=world.oversight
    )
    assert wrong.status_code == 422 and wrong.headers["content-type"] == PROBLEM


def test_blocks_cursor_pages_are_stable_while_records_arrive(world: Api) -> None:
    seen: list[str] = []
    cursor = None
    first_page = True
    while True:
        params = {"limit": 2, "sort": "-date", **({"cursor": cursor} if cursor else {})}
        page = world.client.get("/v1/blocks", params=params, headers=world.oversight).json()
        seen += [i["record_id"] for i in page["items"]]
        if first_page:
            # A record dated before everything arrives mid-way: it belongs after the
            # rows already seen, so it shows on a later page and nothing repeats.
            world.ingest("IDN01", [action("ISS-0", 200001, 200010, action_date="2020-01-01")])
            first_page = False
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["USE-1", "ACQ-1", "FT-1", "ISS-1", "ISS-0"]
    bad = world.client.get("/v1/blocks", params={"cursor": "nonsense"}, headers=world.oversight)
    assert bad.status_code == 422 and bad.json()["type"].endswith("invalid-cursor")


def test_registries_hide_secrets_and_public_sees_public_fields(world: Api) -> None:
    full = world.client.get("/v1/registries/IDN01", headers=world.oversight)
    assert full.status_code == 200
    text = full.text
    for secret in ("sekret-token-value", "another-secret", "hunter2"):
        assert secret not in text
    config = full.json()["configuration"]
    assert config["connector"] == "csv"
    assert "token" not in config and "auth" not in config
    assert config["url"] == "https://***@registry.example/idn"
    public = world.client.get("/v1/registries").json()
    assert [r["id"] for r in public] == ["IDN01", "JPN01"]
    assert all("configuration" not in r for r in public)
    assert world.client.get("/v1/registries/XYZ01").status_code == 404


def test_stats_and_cooperative_approaches_total_by_state(world: Api) -> None:
    stats = world.client.get("/v1/stats").json()
    assert stats["by_state"] == {"transferred": 40000, "used": 10000, "issued": 72000}
    assert stats["by_vintage"] == [{"vintage": 2023, "quantity_by_state": stats["by_state"]}]
    assert stats["by_party"][0]["party_id"] == "IDN"
    assert stats["open_alerts"] == {}  # no check has run: none open, not "unknown"
    (ca,) = world.client.get("/v1/cooperative-approaches").json()
    assert ca["cooperative_approach_id"] == "CA0001"
    assert ca["registries"] == ["IDN01"]
    assert ca["parties"] == ["IDN", "JPN"]
    assert ca["authorizations"] == 1 and ca["authorized_quantity"] == 200000
    # Totals follow the index when it changes.
    world.ingest("IDN01", [action("ISS-2", 300001, 300100, action_date="2024-05-01")])
    assert world.client.get("/v1/stats").json()["by_state"]["issued"] == 72100


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["migrations"] == "current"
