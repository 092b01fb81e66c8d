"""Each schema rule of RECORDS.md: one valid and one invalid case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from metareg.records.schemas import load_schema
from metareg.records.validate import RecordValidator
from tests.helpers import action, authorization, holding, withdrawal

V = RecordValidator()


def paths(record: Any) -> list[str]:
    return [p.path for p in V.problems(record)]


def test_the_example_of_records_md_is_valid() -> None:
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "shared" / "spec" / "RECORDS.md"
    if not spec.exists():
        pytest.skip("shared/spec not beside the checkout")
    lines = spec.read_text().split("```")[1].strip().splitlines()
    assert len(lines) == 4
    for line in lines:
        assert V.problems(json.loads(line)) == []


def test_schemas_are_draft_2020_12_files() -> None:
    for name in ("authorization", "action", "holding", "block", "withdrawal"):
        assert load_schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


CASES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    # (rule, valid record, invalid record, path named in the error)
    (
        "cooperative approach pattern",
        action("a", 1, 2),
        action("a", 1, 2, cooperative_approach_id="CA01"),
        "$.cooperative_approach_id",
    ),
    (
        "registry pattern",
        action("a", 1, 2),
        action("a", 1, 2, party_registry_id="IDN1"),
        "$.party_registry_id",
    ),
    (
        "first transferring Party alpha-3",
        action("a", 1, 2),
        action("a", 1, 2, first_transferring_party_id="id"),
        "$.first_transferring_party_id",
    ),
    ("first_id at least 1", action("a", 1, 2), action("a", 0, 2), "$.first_id"),
    ("first_id <= last_id", action("a", 5, 5), action("a", 6, 5), "$.last_id"),
    ("serial is an integer", action("a", 1, 2), action("a", "1", 2), "$.first_id"),
    (
        "vintage a year 2000..2100",
        action("a", 1, 2, vintage=2100),
        action("a", 1, 2, vintage=1999),
        "$.vintage",
    ),
    (
        "metric GHG or non-GHG",
        action("a", 1, 2, metric="non-GHG"),
        action("a", 1, 2, metric="CO2"),
        "$.metric",
    ),
    (
        "quantity a number",
        action("a", 1, 2, quantity_tco2e=2.5),
        action("a", 1, 2, quantity_tco2e="2"),
        "$.quantity_tco2e",
    ),
    (
        "mitigation type enum",
        action("a", 1, 2, mitigation_type="Removals"),
        action("a", 1, 2, mitigation_type="removal"),
        "$.mitigation_type",
    ),
    (
        "sectors list of strings",
        action("a", 1, 2, sectors=["Energy"]),
        action("a", 1, 2, sectors="Energy"),
        "$.sectors",
    ),
    (
        "unit ids strings",
        action("a", 1, 2, first_unit_id="GS1-1-X-1-10"),
        action("a", 1, 2, first_unit_id=7),
        "$.first_unit_id",
    ),
    ("a field not listed is an error", action("a", 1, 2), action("a", 1, 2, colour="green"), "$"),
    (
        "action_date a date",
        action("a", 1, 2),
        action("a", 1, 2, action_date="2024-02-30"),
        "$.action_date",
    ),
    (
        "action_type enum",
        action("a", 1, 2, action_type="Transfer", acquiring_party_id="JPN"),
        action("a", 1, 2, action_type="Retirement"),
        "$.action_type",
    ),
    (
        "authorization_id required for First transfer",
        action(
            "a", 1, 2, action_type="First transfer", authorization_id="X", acquiring_party_id="JPN"
        ),
        action("a", 1, 2, action_type="First transfer", acquiring_party_id="JPN"),
        "$.authorization_id",
    ),
    (
        "acquiring Party required for Transfer",
        action("a", 1, 2, action_type="Transfer", acquiring_party_id="JPN"),
        action("a", 1, 2, action_type="Transfer"),
        "$.acquiring_party_id",
    ),
    (
        "acquiring Party required for a First transfer to another Party",
        action(
            "a", 1, 2, action_type="First transfer", authorization_id="X", acquiring_party_id="JPN"
        ),
        action(
            "a",
            1,
            2,
            action_type="First transfer",
            authorization_id="X",
            action_subtype="First transfer to another Party",
        ),
        "$.acquiring_party_id",
    ),
    *(
        (
            f"no acquiring Party for a First transfer for OIMP at {subtype}",
            action(
                "a",
                1,
                2,
                action_type="First transfer",
                authorization_id="X",
                action_subtype=subtype,
            ),
            action("a", 1, 2, action_type="First transfer", authorization_id="X"),
            "$.acquiring_party_id",
        )
        for subtype in ("Authorization", "Issuance", "Use or cancellation")
    ),
    (
        "transferring Party required for Acquisition",
        action("a", 1, 2, action_type="Acquisition", transferring_party_id="IDN"),
        action("a", 1, 2, action_type="Acquisition"),
        "$.transferring_party_id",
    ),
    (
        "purpose required for Use",
        action("a", 1, 2, action_type="Use", authorization_id="X", purpose="NDC"),
        action("a", 1, 2, action_type="Use", authorization_id="X"),
        "$.purpose",
    ),
    (
        "purpose enum",
        action("a", 1, 2, action_type="Voluntary cancellation", purpose="OMGE"),
        action("a", 1, 2, action_type="Voluntary cancellation", purpose="sale"),
        "$.purpose",
    ),
    (
        "holding account type enum",
        holding("acc", 1, 2, account_type="retirement"),
        holding("acc", 1, 2, account_type="savings"),
        "$.account_type",
    ),
    (
        "holding as_of required",
        holding("acc", 1, 2),
        {k: v for k, v in holding("acc", 1, 2).items() if k != "as_of"},
        "$.as_of",
    ),
    (
        "authorization purposes non-empty",
        authorization(purposes=["NDC", "OIMP"]),
        authorization(purposes=[]),
        "$.purposes",
    ),
    (
        "authorization purposes enum",
        authorization(purposes=["OP"]),
        authorization(purposes=["CORSIA"]),
        "$.purposes[0]",
    ),
    (
        "authorized Parties alpha-3",
        authorization(authorized_party_ids=["JPN", "KOR"]),
        authorization(authorized_party_ids=["Japan"]),
        "$.authorized_party_ids[0]",
    ),
    (
        "authorization version at least 1",
        authorization(version=2),
        authorization(version=0),
        "$.version",
    ),
    (
        "authorization status enum",
        authorization(status="revoked"),
        authorization(status="expired"),
        "$.status",
    ),
    (
        "timeframe runs forwards",
        authorization(timeframe_start=2023, timeframe_end=2030),
        authorization(timeframe_start=2031, timeframe_end=2030),
        "$.timeframe_end",
    ),
    (
        "first transfer definition enum",
        authorization(first_transfer_definition_oimp="Issuance"),
        authorization(first_transfer_definition_oimp="Mint"),
        "$.first_transfer_definition_oimp",
    ),
    (
        "authorizing Party required",
        authorization(),
        {k: v for k, v in authorization().items() if k != "authorizing_party_id"},
        "$.authorizing_party_id",
    ),
    (
        "withdrawal names its record",
        withdrawal({"record_type": "action", "action_id": "a"}),
        withdrawal({"record_type": "action"}),
        "$.of",
    ),
]


@pytest.mark.parametrize(("rule", "valid", "invalid", "path"), CASES, ids=[c[0] for c in CASES])
def test_schema_rule(rule: str, valid: dict[str, Any], invalid: dict[str, Any], path: str) -> None:
    assert V.problems(valid) == []
    problems = V.problems(invalid)
    assert problems, f"{rule}: invalid record accepted"
    assert path in [p.path for p in problems], problems
    assert all(p.message for p in problems)


def test_every_error_is_collected_with_a_sentence() -> None:
    bad = action("a", 0, 2, cooperative_approach_id="X", vintage=1800, colour=1)
    found = V.problems(bad)
    assert {"$.cooperative_approach_id", "$.first_id", "$.vintage", "$"} <= {p.path for p in found}
    sentence = next(p.message for p in found if p.path == "$.cooperative_approach_id")
    assert "CA0001" in sentence


def test_conditional_requirement_says_why() -> None:
    problems = V.problems(action("a", 1, 2, action_type="Use", authorization_id="X"))
    assert [str(p) for p in problems] == ["$.purpose: is required when action_type is 'Use'"]


@pytest.mark.parametrize("value", [None, [], "text", 3, True])
def test_non_objects_and_unknown_types_are_refused(value: Any) -> None:
    assert paths(value) == ["$"]
    assert paths({"record_type": "retirement"}) == ["$.record_type"]
