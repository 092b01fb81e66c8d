"""The passes reach a rule only through what it declares (its kind, the record kinds
it judges), so a declaration narrower than the rule's decision would silently lose
findings. These tests judge random records with every rule directly and compare:

- the sweep (dispatch by declared kinds) finds exactly what showing every rule every
  record and every overlapping pair finds;
- an authorization rule flags only the action types it declares (named or not);
- a units rule judges only the action types it declares.

In memory: no database, so hypothesis can try many records.
"""

from __future__ import annotations

from datetime import date
from itertools import combinations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from metareg.detection.passes.sweep import sweep_group
from metareg.detection.rules import of_kind
from metareg.detection.rules.dc09_authorization_exceeded import COUNTED
from metareg.detection.rules.kinds import (
    AuthorizationRule,
    CheckContext,
    GroupRule,
    PairRule,
    RecordRule,
    UnitsRule,
)
from metareg.detection.rules.terms import (
    ACTION_TYPES,
    AuthorizationFacts,
    AuthorizationVersion,
    BlockRecord,
    block_record,
    ordered,
    overlap,
)
from metareg.findings import Finding

CONTEXT = CheckContext(date(2024, 6, 1), 30, frozenset({"IDN", "JPN"}))
REGISTRIES = ("IDN01", "JPN01", "KOR01")
DATES = ("2024-01-15", "2024-03-01", "2024-06-01")


@st.composite
def records(draw: Any, number: int) -> BlockRecord:
    first = draw(st.integers(1, 12))
    holding = draw(st.integers(0, 4)) == 0
    record: dict[str, Any] = {
        "record_type": "holding" if holding else "action",
        "cooperative_approach_id": "CA0001",
        "party_registry_id": "IDN01",
        "first_transferring_party_id": draw(st.sampled_from(("IDN", "IDN", "MNG"))),
        "first_id": first,
        "last_id": first + draw(st.integers(0, 4)),
        "vintage": draw(st.sampled_from((2023, 2023, 2024))),
        "metric": draw(st.sampled_from(("GHG", "GHG", "non-GHG"))),
        "mitigation_type": draw(st.sampled_from((None, "Removals", "Emission reductions"))),
        "quantity_tco2e": draw(st.sampled_from((None, 1, 3, 5))),
    }
    if holding:
        record["as_of"] = draw(st.sampled_from(DATES))
        record["account_id"] = draw(st.sampled_from(("A", "B")))
        record["account_type"] = draw(
            st.sampled_from(("holding", "government-holding", "cancellation", "retirement"))
        )
    else:
        record["action_type"] = draw(st.sampled_from(sorted(ACTION_TYPES)))
        record["action_date"] = draw(st.sampled_from(DATES))
        for name, values in (
            ("acquiring_party_id", ("IDN", "JPN", "KOR")),
            ("transferring_party_id", ("IDN", "JPN")),
            ("purpose", ("NDC", "OIMP", "OMGE")),
            ("using_party_id", ("JPN", "KOR")),
            ("using_entity_id", ("E1", "E2")),
            ("authorization_id", ("AUTH-1",)),
        ):
            record[name] = draw(st.sampled_from((None, *values)))
    registry = draw(st.sampled_from(REGISTRIES))
    return block_record(record, registry, f"R{number}")


@st.composite
def groups(draw: Any) -> list[BlockRecord]:
    count = draw(st.integers(1, 10))
    found = [draw(records(n)) for n in range(count)]
    return sorted(found, key=lambda r: (r.first_id, r.record_type, r.registry_id, r.uid))


def every_rule_everywhere(group: list[BlockRecord]) -> list[Finding]:
    """Every block rule shown every record and every overlapping pair, whatever it
    declares."""
    findings: list[Finding] = []
    judgements = [rule.start(CONTEXT) for rule in of_kind(GroupRule)]
    for record in group:
        for record_rule in of_kind(RecordRule):
            findings += [f for f in [record_rule.check(record)] if f is not None]
        for judgement in judgements:
            judgement.see_record(record)
    for a, b in combinations(group, 2):
        if not overlap(a, b):
            continue
        for pair_rule in of_kind(PairRule):
            findings += [f for f in [pair_rule.check(*ordered(a, b))] if f is not None]
        for judgement in judgements:
            judgement.see_pair(a, b)
    for judgement in judgements:
        findings += judgement.findings()
    return findings


@settings(max_examples=400, deadline=None)
@given(group=groups())
def test_the_sweep_loses_nothing_to_the_declared_kinds(group: list[BlockRecord]) -> None:
    swept = sorted(map(repr, sweep_group(group, CONTEXT)))
    assert swept == sorted(map(repr, every_rule_everywhere(group)))


AUTHORIZATION = AuthorizationVersion(
    registry_id="IDN01",
    uid="AUTH-1#v1",
    cooperative_approach_id="CA0001",
    authorization_id="AUTH-1",
    version=1,
    authorization_date=DATES[1],  # some actions are dated before it (DC13)
    authorizing_party_id="IDN",
    authorized_quantity=2,
    purposes=["NDC"],
    authorized_party_ids=["JPN"],
    authorized_entity_ids=["E1"],
    timeframe_start=2024,
    timeframe_end=2030,
    status="active",
    content_hash="0" * 64,
    acts_for=None,
)


@settings(max_examples=400, deadline=None)
@given(
    record=records(0),
    current=st.sampled_from((None, AUTHORIZATION, AUTHORIZATION._replace(status="revoked"))),
    running_total=st.sampled_from((None, 3.0)),
)
def test_an_authorization_rule_flags_only_the_actions_it_declares(
    record: BlockRecord, current: AuthorizationVersion | None, running_total: float | None
) -> None:
    # As the passes give them: an authorization only to an action naming it, a running
    # total only to a first transfer.
    if record.authorization_id is None:
        current = None
    if record.action_type != COUNTED:
        running_total = None
    facts = AuthorizationFacts(current, current, running_total)
    for rule in of_kind(AuthorizationRule):
        if rule.check(record, facts) is not None:
            declared = rule.actions if record.authorization_id else rule.unnamed_actions
            assert record.action_type in declared, (rule.code, record.action_type)


@given(record=records(0), units=st.sampled_from((None, "JCM-ID-001-10")))
def test_a_units_rule_judges_only_the_actions_it_declares(
    record: BlockRecord, units: str | None
) -> None:
    record = record._replace(underlying_registry_id="JCM", first_unit_id=units)
    for rule in of_kind(UnitsRule):
        if rule.judged(record):
            assert record.action_type in rule.actions
