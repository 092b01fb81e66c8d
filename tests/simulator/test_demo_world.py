"""The demo's world as time moves: after every sync round, every alert is one of the
conflicts the scenario planted (no false alarm while registries are mid-story), and by
the world's end every planted conflict has been found."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from metareg.alerts.store import list_alerts
from metareg.cli.live_demo import build_demo
from metareg.simulator.scenario import load_scenario
from metareg.simulator.truth import score, truth_document
from metareg.simulator.world import generate_world

SCENARIOS = Path(__file__).resolve().parents[2] / "config" / "scenarios"


def _planted_key(rule: str, evidence: list[dict[str, str]]) -> tuple[str, frozenset[str]]:
    """A conflict by its rule and records; a holding by its registry and account only
    (the snapshot date in its identity moves with every yearly snapshot)."""
    parts = set()
    for e in evidence:
        if e["record_type"] == "holding":
            account = e["record_id"].split("|")[1]
            parts.add(f"{e['registry']}|holding|{account}")
        else:
            parts.add(f"{e['registry']}|{e['record_type']}|{e['record_id']}")
    return rule, frozenset(parts)


@pytest.mark.slow
def test_only_planted_conflicts_are_flagged_at_every_round(tmp_path: Path) -> None:
    world = generate_world(load_scenario(SCENARIOS / "jcm.toml"))
    stack = build_demo(tmp_path / "demo", world)
    engine: Engine = stack.engine
    planted = {_planted_key(c["rule"], c["evidence"]) for c in truth_document(world)["conflicts"]}
    stack.simulator.start()
    try:
        day = world.scenario.clock.start
        seen: set[tuple[str, frozenset[str]]] = set()
        while True:
            report = stack.loop.run_round(day)
            assert report.failed == []
            with engine.connect() as connection:
                alerts = list_alerts(connection, status="open", limit=10_000)
            for alert in alerts:
                if alert["rule"].startswith("DC"):
                    key = _planted_key(alert["rule"], alert["evidence"])
                    assert key in planted, (day, alert["rule"], alert["message"])
                    seen.add(key)
            if day >= world.scenario.end:
                break
            day = min(world.scenario.end, day + timedelta(days=61))
        assert seen == planted
        with engine.connect() as connection:
            final = score(truth_document(world)["conflicts"], list_alerts(connection, limit=10_000))
        assert final.recall == 1.0, final.report()
    finally:
        stack.stop()
