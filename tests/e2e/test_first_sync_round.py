"""A first `metareg sync` of a world into a fresh database judges the round, not each
registry half-way through it: no alert is opened and then resolved within that round.

For every scenario of config/scenarios/, its world is served over HTTP (frozen at its
end), synced once with the CLI into an empty index, and the alert events of the feeds
(the JSON event log and the Atom feed built from it) are counted: each alert has one
`opened` event and no `resolved` one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from metareg.alerts.events import events_page
from metareg.alerts.feeds import ATOM_NS, atom_feed
from metareg.cli import app
from metareg.db.engine import make_engine
from metareg.simulator.clock import SimClock
from metareg.simulator.runner import SimulatorServer
from metareg.simulator.scenario import load_scenario
from metareg.simulator.world import generate_world

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "config" / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("scenario_path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_a_first_sync_round_opens_nothing_it_resolves(
    db_url: str, tmp_path: Path, scenario_path: Path
) -> None:
    scenario = load_scenario(scenario_path)
    world = generate_world(scenario)
    config = tmp_path / "config"
    config.mkdir()
    with SimulatorServer(world, SimClock.frozen_at(scenario.end)) as server:
        (config / "registries.toml").write_text(server.registries_toml())
        result = CliRunner().invoke(app, ["--db", db_url, "--config", str(config), "sync"])
    # A registry the scenario makes fail may fail (exit 1); the round still ends.
    assert result.exit_code in (0, 1), result.output
    engine = make_engine(db_url)
    events: list[dict[str, Any]] = []
    entries: list[ET.Element] = []
    try:
        with engine.connect() as connection:
            cursor = 0
            while True:  # the JSON feed, page by page
                page = events_page(connection, cursor, 1_000)
                events += page["events"]
                if not page["events"]:
                    break
                atom = ET.fromstring(atom_feed(connection, since=cursor, limit=1_000))
                entries += atom.findall(f"{{{ATOM_NS}}}entry")
                cursor = page["next"]
    finally:
        engine.dispose()
    kinds = Counter(event["event"] for event in events)
    if scenario.injections:  # its planted conflicts are found, in this one round
        assert kinds["opened"] >= sum(i.count for i in scenario.injections), kinds
    assert kinds["resolved"] == 0, kinds
    per_alert = Counter(event["alert"]["id"] for event in events if event["event"] == "opened")
    assert all(count == 1 for count in per_alert.values())
    assert len(entries) == len(events)
    assert not any(" resolved:" in (e.findtext(f"{{{ATOM_NS}}}title") or "") for e in entries)
