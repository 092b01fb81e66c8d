"""The world generator: seeded, valid, clean where it should be, planted where asked."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

from metareg.records.canonical import record_uid
from metareg.records.validate import RecordValidator
from metareg.simulator.scenario import RULE_CODES, ScenarioError, load_scenario, parse_scenario
from metareg.simulator.truth import truth_document
from metareg.simulator.world import generate_world

SCENARIOS = Path(__file__).resolve().parents[2] / "config" / "scenarios"


def _dump(world) -> bytes:  # type: ignore[no-untyped-def]
    return orjson.dumps(
        {
            "records": {
                r: [(p.published.isoformat(), p.record) for p in ps]
                for r, ps in world.records.items()
            },
            "snapshots": {
                r: [(s.as_of.isoformat(), list(s.rows)) for s in ss]
                for r, ss in world.snapshots.items()
            },
            "truth": truth_document(world),
        },
        option=orjson.OPT_SORT_KEYS,
    )


@pytest.mark.parametrize("name", ["jcm", "all-rules", "faults"])
def test_same_scenario_and_seed_give_the_same_world(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    assert _dump(generate_world(scenario)) == _dump(generate_world(scenario))
    assert _dump(generate_world(scenario.with_seed(scenario.seed + 1))) != _dump(
        generate_world(scenario)
    )


@pytest.mark.parametrize("name", ["jcm", "all-rules"])
def test_every_record_is_a_valid_canonical_record(name: str) -> None:
    world = generate_world(load_scenario(SCENARIOS / f"{name}.toml"))
    validator = RecordValidator()
    records = [p.record for ps in world.records.values() for p in ps]
    records += [row for ss in world.snapshots.values() for s in ss for row in s.rows]
    assert len(records) > 100
    for record in records:
        assert validator.problems(record) == [], record


def test_the_default_world_is_the_jcm_at_realistic_sizes() -> None:
    world = generate_world(load_scenario(SCENARIOS / "jcm.toml"))
    issued = [
        p.record
        for ps in world.records.values()
        for p in ps
        if p.record.get("action_type") == "Issuance"
    ]
    sizes = [r["last_id"] - r["first_id"] + 1 for r in issued]
    assert max(sizes) > 100_000  # the waste-heat recovery plant
    assert min(sizes) < 1_000  # the hotel
    assert {r["party_registry_id"] for r in issued} >= {"IDN01", "MNG01", "THA01", "VNM01"}
    assert {r["cooperative_approach_id"] for r in issued} == {"CA0001", "CA0002"}
    kinds = {p.record.get("action_type") for ps in world.records.values() for p in ps}
    assert kinds >= {
        "Issuance",
        "Authorization",
        "First transfer",
        "Acquisition",
        "Use",
        "Cancellation",
    }
    assert all(world.snapshots[r] for r in world.registry_ids)  # yearly holdings


def test_clean_world_has_no_overlap_between_issuances_and_no_double_use() -> None:
    scenario = parse_scenario({**_document("all-rules"), "inject": []}, source="clean")
    world = generate_world(scenario)
    assert world.conflicts == []
    by_block: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for ps in world.records.values():
        for p in ps:
            r = p.record
            kind = r.get("action_type")
            if kind in ("Issuance", "Use", "Cancellation", "Voluntary cancellation"):
                family = "issue" if kind == "Issuance" else "use"
                by_block[(family, r["cooperative_approach_id"], r["party_registry_id"])].append(
                    (r["first_id"], r["last_id"])
                )
                assert r["quantity_tco2e"] == r["last_id"] - r["first_id"] + 1
    for ranges in by_block.values():
        ranges.sort()
        for (_, end), (start, _) in itertools.pairwise(ranges):
            assert end < start


def test_planted_truth_names_records_that_exist() -> None:
    world = generate_world(load_scenario(SCENARIOS / "all-rules.toml"))
    identities = {
        (p.registry, p.record["record_type"], record_uid(p.record))
        for ps in world.records.values()
        for p in ps
    }
    for registry, snaps in world.snapshots.items():
        for row in snaps[-1].rows:
            identities.add((registry, "holding", record_uid(row)))
    rules = set()
    for conflict in world.conflicts:
        rules.add(conflict.rule)
        for e in conflict.evidence:
            assert (e.registry, e.record_type, e.record_id) in identities, conflict
    assert rules == set(RULE_CODES)


def _document(name: str) -> dict:  # type: ignore[type-arg]
    import tomllib

    return tomllib.loads((SCENARIOS / f"{name}.toml").read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"world": {"start": "2024-01-01", "end": "2023-01-01"}}, "end must be after start"),
        ({"inject": [{"rule": "DC99", "registry": "JPN01"}]}, "'DC99' is not one of DC01, DC02"),
        ({"inject": [{"rule": "DC01", "registry": "XXX01"}]}, "not a [[registries]] id"),
        ({"faults": [{"registry": "JPN01", "kind": "explode"}]}, "kind 'explode'"),
        ({"faults": [{"registry": "JPN01", "kind": "error", "status": 404}]}, "must be 5xx"),
        ({"registries": [{"id": "japan"}]}, "must look like JPN01"),
        (
            {"approaches": [{"id": "CA0001", "buyer": "JPN01", "hosts": ["JPN01"]}]},
            "belongs to the buyer's Party",
        ),
        (
            {"projects": [{"approach": "CA0009", "host": "IDN01", "annual_tco2e": 5}]},
            "is not defined",
        ),
        ({"generate": {"projects": 1, "colour": "red"}}, "unknown key"),
        ({"wrold": {}}, "unknown key"),
    ],
)
def test_a_bad_scenario_is_refused_with_a_clear_error(change: dict, message: str) -> None:  # type: ignore[type-arg]
    document = _document("all-rules")
    for key, value in change.items():
        document[key] = {**document[key], **value} if key == "world" else value
    if "wrold" in change:
        document["wrold"] = {}
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(document)


def test_a_world_too_short_to_plant_in_is_refused() -> None:
    document = _document("all-rules")
    document["world"] = {**document["world"], "end": "2023-06-30"}
    document["clock"] = {"start": "2023-06-30"}
    with pytest.raises(ScenarioError, match="31 December"):
        generate_world(parse_scenario(document))


def test_missing_or_broken_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario"):
        load_scenario(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[world\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(broken)
