"""`POST /v1/checks/authorization` writes its answer itself (orjson): it must stay byte
for byte what the documented model `CheckAnswer` would write, whatever the decision
(allowed, denied by a rule, by an alert or by the programme, unknown), and the
programme side must be the statuses the units lookup shows."""

from __future__ import annotations

from typing import Any

from metareg.web.api.routers.checks import CheckAnswer
from tests.api import test_programme_units as programme
from tests.api.conftest import Api, plant_double_use


def post(api: Api, **body: Any) -> bytes:
    response = api.client.post("/v1/checks/authorization", json=body, headers=api.oversight)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.content


def assert_documented(content: bytes) -> None:
    # Validating into the model and writing it again changes no byte: no field missing,
    # extra, reordered, or of another JSON type (an integer where the model has a float).
    assert CheckAnswer.model_validate_json(content).model_dump_json().encode() == content


def test_every_decision_is_written_as_the_model_writes_it(world: Api) -> None:
    plant_double_use(world)  # an open alert on 45000-45010
    use = {"purpose": "NDC", "using_party_id": "JPN"}
    answers = [
        post(world, identifier="CA0001-IDN01-IDN-1-1000-2023", date="2025-01-15", **use),
        post(world, identifier="CA0001-IDN01-IDN-45005-2023", date="2025-01-15", **use),
        post(world, identifier="CA0001-IDN01-IDN-1-1000-2023", using_party_id="CHE", purpose="NDC"),
        post(world, identifier="CA0001-IDN01-IDN-900001-900002-2023", **use),
        post(
            world,
            identifier="CA0001-IDN01-IDN-60001-61000-2023",
            action_type="First transfer",
            acquiring_party_id="CHE",
        ),
        post(world, identifier="CAP-X1-IDN01-IDN-1-2-2023", **use),
    ]
    decisions = {CheckAnswer.model_validate_json(a).decision for a in answers}
    assert decisions == {"allowed", "denied", "unknown"}
    for content in answers:
        assert_documented(content)


def test_programme_answers_are_written_as_the_model_writes_them(api: Api) -> None:
    programme.world(api, "voluntary")
    by_block = post(api, identifier=programme.BLOCK, purpose="NDC", using_party_id="JPN")
    serial = programme.VERRA.format(941467100, 941467150)
    by_serial = post(api, identifier=serial, purpose="NDC", using_party_id="JPN")
    for content in (by_block, by_serial):
        assert_documented(content)
        answer = CheckAnswer.model_validate_json(content)
        assert answer.decision == "denied"
        assert answer.programme is not None and answer.programme["statuses"]
    lookup = api.client.get(f"/v1/units/VCS/{programme.quote(serial)}", headers=api.oversight)
    assert lookup.status_code == 200, lookup.text
    shown = CheckAnswer.model_validate_json(by_serial).programme
    assert shown is not None
    assert shown["statuses"] == lookup.json()["statuses"]
