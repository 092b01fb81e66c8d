"""`evaluate_action`: one hypothetical action judged with the rules' own predicates
(what the API's "may these units be used?" asks), and `authorization_status`."""

from __future__ import annotations

from datetime import date

import pytest

from metareg.detection.passes.proposed import authorization_status, evaluate, evaluate_action
from tests.detection.conftest import Index
from tests.helpers import action, authorization

AS_OF = date(2025, 3, 1)


def _setup(index: Index) -> None:
    index.put("IDN01", authorization(authorized_quantity=150, purposes=["NDC"]))
    index.put(
        "IDN01",
        action("ISS-1", 1, 300),
        action(
            "FT-1",
            1,
            100,
            "First transfer",
            authorization_id="IDN-2023-0001",
            acquiring_party_id="JPN",
        ),
    )
    index.put(
        "JPN01",
        action(
            "USE-1",
            1,
            50,
            "Use",
            authorization_id="IDN-2023-0001",
            purpose="NDC",
            using_party_id="JPN",
            action_date="2024-06-01",
        ),
    )


def _use(first: int, last: int, **extra: object) -> dict:
    return {
        "action_type": "Use",
        "cooperative_approach_id": "CA0001",
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "vintage": 2023,
        "first_id": first,
        "last_id": last,
        "authorization_id": "IDN-2023-0001",
        "purpose": "NDC",
        "using_party_id": "JPN",
        **extra,
    }


def test_units_already_used_cannot_be_used_again(index: Index) -> None:
    _setup(index)
    with index.engine.connect() as connection:
        findings = evaluate_action(connection, _use(40, 60), as_of=AS_OF)
        clean = evaluate_action(connection, _use(51, 100), as_of=AS_OF)
    assert [f.rule for f in findings] == ["DC05"]
    assert findings[0].evidence[1] == ("JPN01", "action", "USE-1")
    assert (findings[0].first_id, findings[0].last_id) == (40, 50)
    assert clean == []


def test_purpose_party_and_authorization_are_judged(index: Index) -> None:
    _setup(index)
    with index.engine.connect() as connection:
        oimp = evaluate_action(connection, _use(51, 60, purpose="OIMP"), as_of=AS_OF)
        korea = evaluate_action(connection, _use(51, 60, using_party_id="KOR"), as_of=AS_OF)
        unknown = evaluate_action(connection, _use(51, 60, authorization_id="NOPE"), as_of=AS_OF)
        too_many = evaluate_action(
            connection,
            {**_use(101, 200), "action_type": "First transfer", "acquiring_party_id": "JPN"},
            as_of=AS_OF,
        )
    assert [f.rule for f in oimp] == ["DC08"]
    assert [f.rule for f in korea] == ["DC09"] and "KOR" in korea[0].message
    assert [f.rule for f in unknown] == ["DC07"]
    assert [f.rule for f in too_many] == ["DC09"] and "200" in too_many[0].message


def test_a_stored_action_is_not_compared_with_itself(index: Index) -> None:
    _setup(index)
    with index.engine.connect() as connection:
        again = evaluate_action(
            connection,
            {**_use(1, 50, action_date="2024-06-01"), "registry": "JPN01", "action_id": "USE-1"},
            as_of=AS_OF,
        )
        with pytest.raises(ValueError, match="lacks"):
            evaluate_action(connection, {"action_type": "Use"}, as_of=AS_OF)
    assert again == []


def test_authorization_status(index: Index) -> None:
    """The version judging the proposed action, of those stated by a registry acting
    for the authorizing Party (RECORDS.md): JPN01's version 3 of Indonesia's
    authorization is not used, IDN01's own version 2 is from its date on."""
    _setup(index)
    index.put("JPN01", authorization(version=3, authorized_quantity=500))
    index.put(
        "IDN01", authorization(version=2, authorized_quantity=500, authorization_date="2024-06-01")
    )
    transfer = {**_use(101, 110), "action_type": "First transfer", "acquiring_party_id": "JPN"}
    with index.engine.connect() as connection:
        later = evaluate(connection, {**transfer, "action_date": "2024-07-01"}, as_of=AS_OF)
        earlier = evaluate(connection, {**transfer, "action_date": "2024-05-31"}, as_of=AS_OF)
        unstated = evaluate(
            connection, {**transfer, "cooperative_approach_id": "CA0002"}, as_of=AS_OF
        )
        assert later.authorization is not None and earlier.authorization is not None
        status = authorization_status(connection, later.authorization)
        before = authorization_status(connection, earlier.authorization)
    assert unstated.authorization is None and [f.rule for f in unstated.findings] == ["DC07"]
    assert status["registry"] == "IDN01" and status["authorization"]["version"] == 2
    assert status["first_transferred"] == 100 and status["remaining"] == 400
    assert status["exceeded"] is False
    assert before["authorization"]["version"] == 1 and before["remaining"] == 50
