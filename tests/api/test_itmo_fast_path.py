"""`GET /v1/itmos/{id}` answers from one history statement and its own serialization:
the answer must stay exactly what the documented model and the index's per-record
history say."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from metareg.alerts import store
from metareg.db.tables.alerts import Alert
from metareg.db.tables.index import CURRENT_TABLES, BlockSpan
from metareg.index import query
from metareg.oversight import keys
from metareg.oversight.itmos import histories
from metareg.web.api.routers.itmos import ItmoOut
from tests.api.conftest import Api, correct_a_use, plant_double_use

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
    correct_a_use(world)  # so one record has two versions
    with world.engine.connect() as connection:
        found = query.intersecting(connection, "CA0001", "IDN01", 1, 122000)
        identities = [(f["registry"], f["record_type"], f["record_id"]) for f in found]
        assert len({i[0] for i in identities}) == 2  # records of both registries
        together = histories(connection, identities)
        alone = {i: query.history(connection, *i) for i in identities}
        assert histories(connection, []) == {}
    assert together == alone
    assert max(len(v) for v in together.values()) == 2


def _reference_intersecting(connection: Any, ca: str, registry: str, first: int, last: int) -> Any:
    """The range query as SQLAlchemy runs it, rows read by name (what `intersecting`
    did before its rows came from the driver)."""
    span = connection.execute(
        select(BlockSpan.c.max_span).where(
            BlockSpan.c.cooperative_approach_id == ca, BlockSpan.c.party_registry_id == registry
        )
    ).scalar()
    if span is None:
        return []
    found = []
    for record_type in query.BLOCK_TYPES:
        table = CURRENT_TABLES[record_type]
        rows = connection.execute(
            select(table)
            .where(
                table.c.cooperative_approach_id == ca,
                table.c.party_registry_id == registry,
                table.c.first_id >= first - span,
                table.c.first_id <= last,
                table.c.last_id >= first,
            )
            .order_by(table.c.first_id, table.c.registry_id, table.c.uid)
        )
        found += [
            {
                "registry": row.registry_id,
                "record_type": record_type,
                "record_id": row.uid,
                "record": query.canonical(record_type, row),
            }
            for row in rows
        ]
    return found


RANGES = [
    ("CA0001", "IDN01", 1, 122000),  # both registries' records, actions and holdings
    ("CA0001", "IDN01", 40001, 40001),
    ("CA0001", "IDN01", 45005, 45005),
    ("CA0001", "IDN01", 900001, 900002),  # nothing there
    ("CA0001", "NOPE1", 1, 10),  # a pair the index has never seen: no span
    ("CA9999", "IDN01", 1, 10),
]


def test_range_reads_on_the_driver_equal_sqlalchemys(world: Api) -> None:
    """The range query and its form with histories (the GET's read), run on the driver
    on SQLite, give exactly what SQLAlchemy's rows give: same records, same values and
    types (dates, JSON lists), same order, and each record's own history."""
    correct_a_use(world)  # so one record has two versions
    with world.engine.connect() as connection:
        for ca, registry, first, last in RANGES:
            expected = _reference_intersecting(connection, ca, registry, first, last)
            assert query.intersecting(connection, ca, registry, first, last) == expected
            with_history = query.intersecting_with_history(connection, ca, registry, first, last)
            assert with_history == [
                {**item, "history": query.history(connection, *_identity(item))}
                for item in expected
            ]
        everything = query.intersecting_with_history(connection, "CA0001", "IDN01", 1, 122000)
    assert max(len(item["history"]) for item in everything) == 2
    assert {item["record_type"] for item in everything} == {"action", "holding"}
    dated = [i["record"] for i in everything if i["record_type"] == "action"]
    assert all(isinstance(record["action_date"], str) for record in dated)


def _identity(item: dict[str, Any]) -> tuple[str, str, str]:
    return item["registry"], item["record_type"], item["record_id"]


def test_alert_and_key_reads_on_the_driver_equal_sqlalchemys(world: Api) -> None:
    """The alerts on a block (JSON evidence, dates) and the key lookups read on the
    driver give what SQLAlchemy's rows give; a revoked key is found no more."""
    plant_double_use(world)
    with world.engine.connect() as connection:
        for status in ("open", None, "resolved"):
            for ca, registry, first, last in RANGES:
                reference = select(Alert).where(
                    Alert.c.cooperative_approach_id == ca,
                    Alert.c.party_registry_id == registry,
                    Alert.c.first_id <= last,
                    Alert.c.last_id >= first,
                )
                if status == "open":
                    reference = reference.where(Alert.c.status.in_(store.UNRESOLVED))
                elif status is not None:
                    reference = reference.where(Alert.c.status == status)
                expected = [
                    store.to_dict(row)
                    for row in connection.execute(reference.order_by(Alert.c.first_id, Alert.c.id))
                ]
                found = store.alerts_touching(connection, ca, registry, first, last, status=status)
                assert found == expected
        assert store.alerts_touching(connection, "CA0001", "IDN01", 1, 122000)  # some found
    with world.engine.begin() as connection:
        described, token = keys.create_key(connection, "driver", "oversight")
        assert keys.find_key(connection, token) == described
        assert keys.list_keys(connection)[-1] == described
        assert keys.find_caller(connection, token) == (described["id"], "driver", "oversight")
        assert keys.find_caller(connection, token + "x") is None
        assert keys.find_caller(connection, "not-a-key") is None
        keys.revoke_key(connection, described["id"])
        assert keys.find_key(connection, token) is None
        assert keys.find_caller(connection, token) is None
