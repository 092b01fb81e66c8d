"""POST /v1/checks/authorization: every decision and every reason, on both backends."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from metareg.alerts import store
from metareg.checks.runner import run_checks
from tests.api.conftest import AUTH_ID, Api, plant_double_use
from tests.helpers import action, authorization, holding


def check(api: Api, identifier: str, **extra: Any) -> dict[str, Any]:
    body = {"identifier": identifier, "purpose": "NDC", "using_party_id": "JPN", **extra}
    response = api.client.post("/v1/checks/authorization", json=body, headers=api.oversight)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def failed(answer: dict[str, Any]) -> set[str]:
    return {r["code"] for r in answer["reasons"] if r["outcome"] == "failed"}


def test_allowed_names_the_authorization_and_what_is_left(world: Api) -> None:
    answer = check(world, "CA0001-IDN01-IDN-1-1000-2023", date="2025-01-15")
    assert answer["decision"] == "allowed"
    assert failed(answer) == set()
    assert {r["code"] for r in answer["reasons"]} == {
        "DC05",
        "DC06",
        "DC07",
        "DC08",
        "DC09",
        "DC13",
    }
    assert answer["authorization"]["authorization_id"] == AUTH_ID
    assert answer["authorized_quantity"] == 200000
    assert answer["quantity_first_transferred"] == 50000
    assert answer["quantity_available"] == 150000
    assert answer["alerts"] == []


@pytest.mark.parametrize(
    ("identifier", "extra", "code", "words"),
    [
        # 40001-50000 are used already (USE-1): a second use is double use.
        ("CA0001-IDN01-IDN-45000-45010-2023", {}, "DC05", "use"),
        # The authorization covers NDC only.
        ("CA0001-IDN01-IDN-1-10-2023", {"purpose": "OIMP"}, "DC08", "OIMP"),
        # Japan is the only authorized Party.
        ("CA0001-IDN01-IDN-1-10-2023", {"using_party_id": "KOR"}, "DC09", "KOR"),
        # An authorization no registry reports.
        ("CA0001-IDN01-IDN-1-10-2023", {"authorization_id": "NO-SUCH-AUTH"}, "DC07", "NO-SUCH"),
        # The identifier's vintage disagrees with every record of those serials.
        ("CA0001-IDN01-IDN-1-10-2024", {}, "DC02", "vintage"),
    ],
)
def test_denied_gives_each_failing_rule_with_a_sentence(
    world: Api, identifier: str, extra: dict[str, Any], code: str, words: str
) -> None:
    answer = check(world, identifier, date="2025-01-15", **extra)
    assert answer["decision"] == "denied"
    assert code in failed(answer)
    reason = next(r for r in answer["reasons"] if r["code"] == code)
    assert words.lower() in reason["message"].lower()
    assert all(e["record_id"] != "(proposed)" for e in reason["evidence"])
    # The proposed action is "the proposed ...", never the id the check made up for it.
    assert "(proposed)" not in reason["message"] and "check-" not in reason["message"]


def test_denied_when_the_authorization_is_revoked(world: Api) -> None:
    world.ingest(
        "IDN01",
        [
            authorization(
                AUTH_ID,
                version=2,
                authorization_date="2024-01-10",
                purposes=["NDC"],
                authorized_party_ids=["JPN"],
                status="revoked",
            )
        ],
    )
    answer = check(world, "CA0001-IDN01-IDN-1-10-2023", date="2025-01-15")
    assert answer["decision"] == "denied"
    assert "DC08" in failed(answer)
    assert answer["authorization"]["version"] == 2


def test_denied_when_the_vintage_is_outside_the_timeframe(world: Api) -> None:
    world.ingest(
        "IDN01",
        [
            authorization("IDN-LATE", timeframe_start=2025, timeframe_end=2030),
            action("ISS-9", 122001, 122100, action_date="2024-02-01"),
            action(
                "FT-9",
                122001,
                122100,
                "First transfer",
                action_date="2024-04-01",
                authorization_id="IDN-LATE",
                acquiring_party_id="JPN",
            ),
        ],
    )
    answer = check(world, "CA0001-IDN01-IDN-122001-122010-2023", date="2025-01-15")
    assert answer["decision"] == "denied"
    assert "DC09" in failed(answer)
    assert answer["authorization"]["authorization_id"] == "IDN-LATE"


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        ("CA0001-IDN01-IDN-900000-900010-2023", "CK01"),  # no registry reports them
        ("CA0001-IDN01-IDN-60000-60010-2023", "CK02"),  # issued, never first transferred
    ],
)
def test_unknown_when_the_index_lacks_what_the_rules_need(
    world: Api, identifier: str, code: str
) -> None:
    answer = check(world, identifier)
    assert answer["decision"] == "unknown"
    assert [r["code"] for r in answer["reasons"]] == [code]
    assert answer["reasons"][0]["outcome"] == "unknown"


def test_unknown_when_the_units_came_under_several_authorizations(world: Api) -> None:
    world.ingest(
        "IDN01",
        [
            authorization("IDN-2024-0002"),
            action(
                "FT-2",
                50001,
                60000,
                "First transfer",
                action_date="2024-05-01",
                authorization_id="IDN-2024-0002",
                acquiring_party_id="JPN",
            ),
        ],
    )
    answer = check(world, "CA0001-IDN01-IDN-49000-51000-2023")
    assert answer["decision"] == "unknown"
    assert answer["reasons"][0]["code"] == "CK03"
    # Naming one of them lets the check decide.
    named = check(world, "CA0001-IDN01-IDN-50001-51000-2023", authorization_id="IDN-2024-0002")
    assert named["decision"] == "allowed"


def test_open_alerts_on_the_units_come_with_the_answer(world: Api) -> None:
    plant_double_use(world)
    answer = check(world, "CA0001-IDN01-IDN-45005-2023", date="2025-01-15")
    assert answer["decision"] == "denied"
    assert "DC05" in {alert["rule"] for alert in answer["alerts"]}


def test_malformed_request_is_a_problem(world: Api) -> None:
    response = world.client.post(
        "/v1/checks/authorization",
        json={
            "identifier": "CA0001-IDN01-IDN-1-10-2023",
            "purpose": "IMP",
            "using_party_id": "JPN",
        },
        headers=world.oversight,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "purpose" in response.json()["detail"]
    bad_id = world.client.post(
        "/v1/checks/authorization",
        json={
            "identifier": "CA0001-IDN01-IDN-10-1-2023",
            "purpose": "NDC",
            "using_party_id": "JPN",
        },
        headers=world.oversight,
    )
    assert bad_id.status_code == 422 and bad_id.json()["part"] == "serial range"


# -- issue 13: first transfers, dated and authoritative versions, unresolved alerts --------


def second_version(api: Api, registry: str = "IDN01", **fields: Any) -> None:
    """Version 2 of the world's authorization (its quantity, Parties and purposes)."""
    fields = {"authorized_quantity": 200000, **fields}
    api.ingest(registry, [authorization(AUTH_ID, version=2, **fields)])


def first_transfer(api: Api, identifier: str, **extra: Any) -> dict[str, Any]:
    body = {
        "identifier": identifier,
        "action_type": "First transfer",
        "acquiring_party_id": "JPN",
        "authorization_id": AUTH_ID,
        **extra,
    }
    response = api.client.post("/v1/checks/authorization", json=body, headers=api.oversight)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_party_asks_before_it_first_transfers(world: Api) -> None:
    """The version in force on the proposed date judges a first transfer: version 2
    lowers the quantity from 2024-12-01 on."""
    second_version(world, authorization_date="2024-12-01", authorized_quantity=60000)
    before = first_transfer(world, "CA0001-IDN01-IDN-50001-60010-2023", date="2024-11-30")
    after = first_transfer(world, "CA0001-IDN01-IDN-50001-60010-2023", date="2024-12-01")
    assert before["decision"] == "allowed" and before["action_type"] == "First transfer"
    assert before["authorization"]["version"] == 1 and before["quantity_available"] == 150000
    assert after["decision"] == "denied" and failed(after) == {"DC09"}
    assert after["authorization"]["version"] == 2 and after["quantity_available"] == 10000
    passed = {r["code"] for r in before["reasons"] if r["outcome"] == "passed"}
    assert passed == {"DC06", "DC07", "DC08", "DC09", "DC13"}
    # Before the authorization was given at all: DC13.
    early = first_transfer(world, "CA0001-IDN01-IDN-50001-50010-2023", date="2024-01-09")
    assert early["decision"] == "denied" and failed(early) == {"DC13"}


def test_a_first_transfer_for_oimp_may_have_no_buyer_and_names_its_authorization(
    world: Api,
) -> None:
    oimp = first_transfer(
        world,
        "CA0001-IDN01-IDN-50001-50010-2023",
        acquiring_party_id=None,
        action_subtype="Issuance",
        date="2025-01-15",
    )
    assert oimp["decision"] == "allowed"
    unnamed = first_transfer(
        world, "CA0001-IDN01-IDN-50001-50010-2023", authorization_id=None, date="2025-01-15"
    )
    assert unnamed["decision"] == "unknown" and unnamed["reasons"][0]["code"] == "CK02"
    response = world.client.post(
        "/v1/checks/authorization",
        json={
            "identifier": "CA0001-IDN01-IDN-50001-50010-2023",
            "action_type": "First transfer",
            "authorization_id": AUTH_ID,
        },
        headers=world.oversight,
    )
    assert response.status_code == 422
    assert "acquiring_party_id" in response.json()["detail"]
    no_party = world.client.post(
        "/v1/checks/authorization",
        json={"identifier": "CA0001-IDN01-IDN-1-10-2023", "purpose": "NDC"},
        headers=world.oversight,
    )
    assert no_party.status_code == 422 and "using_party_id" in no_party.json()["detail"]


def test_a_use_is_judged_by_the_version_in_force_when_its_units_were_first_transferred(
    world: Api,
) -> None:
    second_version(world, authorization_date="2024-06-01", status="revoked")
    # 1-10 were first transferred on 2024-03-15, before the revocation: still authorized.
    use = check(world, "CA0001-IDN01-IDN-1-10-2023", date="2025-01-15")
    assert use["decision"] == "allowed" and use["authorization"]["version"] == 1
    # No first transfer may follow it.
    later = first_transfer(world, "CA0001-IDN01-IDN-50001-50010-2023", date="2025-01-15")
    assert later["decision"] == "denied" and failed(later) == {"DC08"}


def test_only_a_registry_acting_for_the_party_states_its_authorization(world: Api) -> None:
    second_version(world, "JPN01", authorization_date="2024-02-01", purposes=["OIMP"])
    answer = check(world, "CA0001-IDN01-IDN-1-10-2023", date="2025-01-15", purpose="OIMP")
    assert answer["decision"] == "denied" and failed(answer) == {"DC08"}
    assert answer["authorization"]["version"] == 1


def test_the_entity_clause(world: Api) -> None:
    second_version(world, authorization_date="2024-01-10", authorized_entity_ids=["JP-ENTITY-1"])
    listed = check(world, "CA0001-IDN01-IDN-1-10-2023", using_entity_id="JP-ENTITY-1")
    other = check(world, "CA0001-IDN01-IDN-1-10-2023", using_entity_id="JP-ENTITY-2")
    assert listed["decision"] == "allowed"
    assert other["decision"] == "denied" and failed(other) == {"DC09"}
    assert "JP-ENTITY-2" in next(r for r in other["reasons"] if r["code"] == "DC09")["message"]


def test_an_unresolved_critical_alert_on_the_units_denies(world: Api) -> None:
    """Units held by two registries (DC04, critical): no rule speaks against the use
    itself, yet it is denied until the discrepancy is resolved, naming the alert."""
    world.ingest(
        "IDN01",
        [
            holding("IDN-GOV-1", 50001, 122000, account_type="government-holding"),
            holding("IDN-GOV-2", 1, 10, account_type="government-holding"),
        ],
    )
    run_checks(world.engine, full=True, as_of=date(2025, 1, 1))
    answer = check(world, "CA0001-IDN01-IDN-5-8-2023", date="2025-01-15")
    [reason] = [r for r in answer["reasons"] if r["outcome"] == "failed"]
    [alert] = [a for a in answer["alerts"] if a["rule"] == "DC04"]
    assert answer["decision"] == "denied"
    assert reason["code"] == "CK04" and reason["alert_id"] == alert["id"]
    assert alert["id"] in reason["message"]
    with world.engine.begin() as connection:
        store.acknowledge(connection, alert["id"], "asked IDN01 to correct its holdings")
    assert check(world, "CA0001-IDN01-IDN-5-8-2023", date="2025-01-15")["decision"] == "denied"
    corrected = holding(
        "IDN-GOV-1", 50001, 122000, account_type="government-holding", as_of="2025-01-01"
    )
    world.ingest("IDN01", [corrected])  # a newer snapshot without 1-10
    run_checks(world.engine, full=True, as_of=date(2025, 1, 1))
    assert check(world, "CA0001-IDN01-IDN-5-8-2023", date="2025-01-15")["decision"] == "allowed"
