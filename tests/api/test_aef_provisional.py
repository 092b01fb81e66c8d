"""The AEF export marks the provisional cooperative approaches (`CAP-...`, RECORDS.md)
its tables name, so a reader knows the UNFCCC has not numbered them yet."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.helpers import action


def test_the_aef_json_names_the_provisional_approaches_it_holds(world: Api) -> None:
    block = {"cooperative_approach_id": "CAP-RWA-SIQ", "party_registry_id": "RWA01"}
    block["first_transferring_party_id"] = "RWA"
    world.ingest("RWA01", [action("ISS-1", 1, 10, action_date="2024-02-01", **block)])
    rwanda = world.client.get("/v1/aef/RWA/2024", headers=world.oversight)
    assert rwanda.status_code == 200, rwanda.text
    assert rwanda.json()["provisional_cooperative_approaches"] == ["CAP-RWA-SIQ"]
    indonesia = world.client.get("/v1/aef/IDN/2024", headers=world.oversight).json()
    assert indonesia["provisional_cooperative_approaches"] == []
