"""Provisional cooperative approaches (`CAP-...`, RECORDS.md) are accepted wherever an
approach id is (the ITMO identifier, query parameters, the authorization check) and
every answer marks them provisional; a UNFCCC id is not marked. Both backends."""

from __future__ import annotations

from typing import Any

from metareg.checks.runner import run_checks
from metareg.records.identifiers import parse_itmo
from tests.api.conftest import Api
from tests.helpers import action, authorization

CAP = "CAP-RWA-SIQ"


def _records() -> list[dict[str, Any]]:
    block = {"cooperative_approach_id": CAP, "party_registry_id": "RWA01"}
    block["first_transferring_party_id"] = "RWA"
    return [
        authorization(
            "RWA-2024-01",
            authorizing_party_id="RWA",
            cooperative_approach_id=CAP,
            authorized_party_ids=["SGP"],
            authorization_date="2024-01-10",
        ),
        action("ISS-1", 1, 1000, action_date="2024-02-01", **block),
        action(
            "FT-1",
            1,
            500,
            "First transfer",
            action_date="2024-03-01",
            authorization_id="RWA-2024-01",
            acquiring_party_id="SGP",
            **block,
        ),
        # Untraced (no issuance covers 2000-2100): an alert on the provisional approach.
        action(
            "FT-2",
            2000,
            2100,
            "First transfer",
            action_date="2024-03-01",
            authorization_id="RWA-2024-01",
            acquiring_party_id="SGP",
            **block,
        ),
    ]


def test_the_identifier_grammar_reads_a_provisional_approach() -> None:
    block = parse_itmo(f"{CAP}-RWA01-RWA-1-500-2023")
    assert (block.cooperative_approach_id, block.first_id, block.last_id) == (CAP, 1, 500)
    assert parse_itmo(f"{CAP}-RWA01-RWA-7-2023").text() == f"{CAP}-RWA01-RWA-7-2023"


def test_a_provisional_approach_is_accepted_and_marked_everywhere(world: Api) -> None:
    world.ingest("RWA01", _records())
    run_checks(world.engine, full=True)
    headers = world.oversight

    itmo = world.client.get(f"/v1/itmos/{CAP}-RWA01-RWA-1-500-2023", headers=headers)
    assert itmo.status_code == 200, itmo.text
    assert CAP in itmo.text and '"provisional":true' in itmo.text.replace(" ", "")

    alerts = world.client.get(
        "/v1/alerts", params={"cooperative_approach_id": CAP}, headers=headers
    )
    assert alerts.status_code == 200, alerts.text
    [alert] = alerts.json()["items"]
    assert alert["provisional"] is True
    assert alert["identifier"] == f"{CAP}-RWA01-RWA-2000-2100-2023"

    others = world.client.get(
        "/v1/alerts", params={"cooperative_approach_id": "CA0001"}, headers=headers
    ).json()["items"]
    assert all(a["provisional"] is False for a in others)

    answer = world.client.post(
        "/v1/checks/authorization",
        json={
            "identifier": f"{CAP}-RWA01-RWA-1-500-2023",
            "purpose": "NDC",
            "using_party_id": "SGP",
            "date": "2025-01-15",
        },
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["provisional"] is True
    assert answer.json()["authorization"]["authorization_id"] == "RWA-2024-01"

    stats = world.client.get("/v1/stats", headers=headers).json()
    marks = {
        c["cooperative_approach_id"]: c["provisional"] for c in stats["by_cooperative_approach"]
    }
    assert marks[CAP] is True and marks["CA0001"] is False
