"""`GET /v1/itmos/{id}` answers from one history statement and its own serialization:
the answer must stay exactly what the documented model and the index's per-record
history say."""

from __future__ import annotations

from metareg.index import query
from metareg.oversight.itmos import histories
from metareg.web.api.routers.itmos import ItmoOut
from tests.api.conftest import AUTH_ID, Api
from tests.helpers import action

BLOCK = "/v1/itmos/CA0001-IDN01-IDN-39001-60000-2023"


def test_answer_is_exactly_the_documented_model(world: Api) -> None:
    response = world.client.get(BLOCK, headers=world.oversight)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["records"], "the block is covered"
    # Validating into the model and dumping changes nothing: no field missing, extra,
    # renamed, reordered or of another JSON type.
    assert ItmoOut.model_validate(body).model_dump(mode="json") == body
    assert list(body) == list(ItmoOut.model_fields)


def test_histories_in_one_statement_equal_each_record_alone(world: Api) -> None:
    world.ingest(  # a correction, so one record has two versions
        "JPN01",
        [
            action(
                "USE-1",
                40001,
                50000,
                "Use",
                action_date="2024-06-02",
                authorization_id=AUTH_ID,
                purpose="NDC",
                using_party_id="JPN",
                ndc_use_year=2024,
            )
        ],
    )
    with world.engine.connect() as connection:
        found = query.intersecting(connection, "CA0001", "IDN01", 1, 122000)
        identities = [(f["registry"], f["record_type"], f["record_id"]) for f in found]
        assert len({i[0] for i in identities}) == 2  # records of both registries
        together = histories(connection, identities)
        alone = {i: query.history(connection, *i) for i in identities}
        assert histories(connection, []) == {}
    assert together == alone
    assert max(len(v) for v in together.values()) == 2
