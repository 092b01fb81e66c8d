"""The planted-truth test: a world with every rule of RULES.md planted, served over real
HTTP on loopback, synced by the sync engine and checked as of the world's end. Every
planted conflict must be flagged and nothing else (precision and recall both 1.0)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from metareg.alerts.store import list_alerts
from metareg.checks.runner import run_checks
from metareg.simulator.clock import SimClock
from metareg.simulator.runner import SimulatorServer
from metareg.simulator.scenario import RULE_CODES, load_scenario
from metareg.simulator.truth import read_truth, score, write_truth
from metareg.simulator.world import generate_world
from metareg.sync.engine import SyncEngine

SCENARIOS = Path(__file__).resolve().parents[2] / "config" / "scenarios"


@pytest.mark.parametrize("seed", [None, 2024], ids=["scenario-seed", "seed-2024"])
def test_every_planted_conflict_is_found_and_nothing_else(
    engine: Engine, tmp_path: Path, seed: int | None
) -> None:
    scenario = load_scenario(SCENARIOS / "all-rules.toml")
    if seed is not None:
        scenario = scenario.with_seed(seed)
    world = generate_world(scenario)
    truth_path = tmp_path / "truth.json"
    write_truth(world, truth_path)
    truth = read_truth(truth_path)
    assert {c["rule"] for c in truth["conflicts"]} == set(RULE_CODES)

    with SimulatorServer(world, SimClock.frozen_at(scenario.end)) as server:
        sync = SyncEngine(engine)
        for config in server.registry_configs():
            result = sync.sync(config)
            assert result.ok, (config.id, result.error)
            assert result.counts.quarantined == 0
    run_checks(engine, full=True, as_of=date.fromisoformat(truth["as_of"]))
    with engine.connect() as connection:
        alerts = list_alerts(connection, limit=10_000)

    result = score(truth["conflicts"], alerts)
    assert (result.precision, result.recall) == (1.0, 1.0), result.report()
