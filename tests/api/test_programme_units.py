"""The authorization check and the units lookup by a programme's serial as well as by
an ITMO identifier: both sides in the answer (the ITMO blocks resting on the units,
what the programme reports about them); units the programme reports retired for a
voluntary claim are denied with DC15's reason. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.api.conftest import AUTH_ID, Api
from tests.helpers import action, authorization

VERRA = "19385-{}-{}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
BLOCK = "CA0001-IDN01-IDN-1-425-2023"


def world(api: Api, purpose: str) -> None:
    unit = VERRA.format(941467007, 941467431)
    api.ingest(
        "IDN01",
        [
            authorization(
                AUTH_ID,
                authorization_date="2024-01-10",
                authorized_quantity=200000,
                purposes=["NDC"],
                authorized_party_ids=["JPN"],
            ),
            action(
                "ISS-1",
                1,
                425,
                action_date="2024-02-01",
                underlying_registry_id="VCS",
                first_unit_id=unit,
                last_unit_id=unit,
            ),
            action(
                "FT-1",
                1,
                425,
                "First transfer",
                action_date="2024-03-15",
                authorization_id=AUTH_ID,
                acquiring_party_id="JPN",
            ),
        ],
    )
    api.ingest(
        "VCS",
        [
            {
                "record_type": "unit_status",
                "status_id": "R-1",
                "underlying_registry_id": "VCS",
                "first_unit_id": VERRA.format(941467100, 941467199),
                "last_unit_id": VERRA.format(941467100, 941467199),
                "status": "retired",
                "status_date": "2024-05-01",
                "purpose": purpose,
                "beneficiary": "Acme Corp",
                "quantity": 100,
            }
        ],
    )


def check(api: Api, identifier: str, **extra: Any) -> dict[str, Any]:
    body = {
        "identifier": identifier,
        "purpose": "NDC",
        "using_party_id": "JPN",
        "date": "2025-01-15",
        **extra,
    }
    response = api.client.post("/v1/checks/authorization", json=body, headers=api.oversight)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def reasons(answer: dict[str, Any], outcome: str) -> dict[str, str]:
    return {r["code"]: r["message"] for r in answer["reasons"] if r["outcome"] == outcome}


def test_units_retired_for_a_voluntary_claim_are_denied_by_either_name(api: Api) -> None:
    world(api, "voluntary")
    by_itmo = check(api, BLOCK)
    by_serial = check(api, VERRA.format(941467150, 941467150))  # one VCU of the block
    for answer in (by_itmo, by_serial):
        assert answer["decision"] == "denied"
        failed = reasons(answer, "failed")
        assert set(failed) == {"DC15"}
        assert "voluntary" in failed["DC15"] and "Acme Corp" in failed["DC15"]
        assert answer["itmo_blocks"] == [BLOCK]
        [status] = answer["programme"]["statuses"]
        assert (status["status_id"], status["registry"]) == ("R-1", "VCS")
        assert answer["programme"]["programme"] == "VCS"
    # The rules on the action itself still speak.
    assert {"DC05", "DC07", "DC08"} <= set(reasons(by_serial, "passed"))


def test_units_retired_for_article6_are_allowed_with_the_programme_side(api: Api) -> None:
    world(api, "article6")
    answer = check(api, VERRA.format(941467007, 941467431), programme="VCS")
    assert answer["decision"] == "allowed"
    assert {"DC15", "DC16"} <= set(reasons(answer, "passed"))
    assert answer["programme"]["statuses"][0]["purpose"] == "article6"


def test_units_no_itmo_rests_on_are_unknown(api: Api) -> None:
    world(api, "voluntary")
    answer = check(api, VERRA.format(941467432, 941467500))  # touching: not the block's
    assert answer["decision"] == "unknown"
    assert set(reasons(answer, "unknown")) == {"CK05"}
    assert answer["itmo_blocks"] == [] and answer["programme"]["statuses"] == []


def test_units_lookup_by_serial_and_by_itmo_identifier(api: Api) -> None:
    world(api, "voluntary")
    serial = VERRA.format(941467150, 941467150)
    by_serial = api.client.get(f"/v1/units/VCS/{quote(serial)}", headers=api.oversight)
    by_itmo = api.client.get(f"/v1/units/ITMO/{BLOCK}", headers=api.oversight)
    for response in (by_serial, by_itmo):
        assert response.status_code == 200, response.text
        body = response.json()
        assert [b["identifier"] for b in body["itmo_blocks"]] == [BLOCK]
        assert [s["status_id"] for s in body["statuses"]] == ["R-1"]
    # Not for the public.
    assert api.client.get(f"/v1/units/VCS/{quote(serial)}").status_code in (401, 403)
    # Another programme's units of the same shape: nothing.
    other = api.client.get(f"/v1/units/GS/{quote(serial)}", headers=api.oversight).json()
    assert other["itmo_blocks"] == [] and other["statuses"] == []


def test_the_itmo_timeline_shows_the_programme_beside_the_registries(api: Api) -> None:
    from metareg.web.dashboard.auth import COOKIE

    world(api, "voluntary")
    api.client.cookies.set(COOKIE, api.oversight["X-API-Key"])
    page = api.client.get("/dashboard/itmo", params={"id": BLOCK})
    assert page.status_code == 200, page.text
    timeline = page.text[page.text.index('<ol class="timeline">') : page.text.index("</ol>")]
    events = timeline.split('<li class="event')[1:]
    # The registry's issuance and first transfer, then Verra's retirement, by date.
    assert [e.split('data-registry="')[1].split('"')[0] for e in events] == [
        "IDN01",
        "IDN01",
        "VCS",
    ]
    retired = events[2]
    assert " programme" in retired.split(">")[0]
    assert "VCS units retired" in retired and "purpose: voluntary" in retired
    assert "Acme Corp" in retired and "R-1" in retired
