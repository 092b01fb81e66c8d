"""The AEF and CAD Trust faces of simulated registries, read over real HTTP by the AEF
and CADT connectors: the index learns the same records as through the exchange API."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from metareg.db.tables.index import Action, Authorization, Holding
from metareg.registries import RegistryConfig
from metareg.simulator.clock import SimClock
from metareg.simulator.runner import SimulatorServer
from metareg.simulator.scenario import load_scenario
from metareg.simulator.world import generate_world
from metareg.sync.engine import SyncEngine

SCENARIOS = Path(__file__).resolve().parents[2] / "config" / "scenarios"
ACTION_FIELDS = (
    "action_type",
    "action_date",
    "cooperative_approach_id",
    "party_registry_id",
    "first_id",
    "last_id",
    "vintage",
    "authorization_id",
    "acquiring_party_id",
    "transferring_party_id",
    "purpose",
)


def _actions(engine: Engine, registry: str) -> set[tuple]:  # type: ignore[type-arg]
    table = Action
    with engine.connect() as connection:
        rows = connection.execute(select(table).where(table.c.registry_id == registry)).all()
    return {(row.action_id, *(str(getattr(row, f)) for f in ACTION_FIELDS)) for row in rows}


def _count(engine: Engine, model: type, registry: str) -> int:
    table = model
    with engine.connect() as connection:
        return len(
            connection.execute(select(table.c.id).where(table.c.registry_id == registry)).all()
        )


def test_cadt_node_and_aef_workbook_give_the_exchange_records(engine: Engine) -> None:
    world = generate_world(load_scenario(SCENARIOS / "jcm.toml"))
    mongolia = world.scenario.registry("MNG01")
    indonesia = world.scenario.registry("IDN01")
    assert mongolia.cadt_node and indonesia.publishes_aef
    end = world.scenario.end
    with SimulatorServer(world, SimClock.frozen_at(end)) as server:
        sync = SyncEngine(engine)
        cadt = RegistryConfig(
            "MNG01",
            "Mongolia via CAD Trust",
            "MNG",
            {
                "connector": {
                    "type": "cadt",
                    "url": server.url("MNG01"),
                    "reported_year": end.year - 1,
                    "limit": 20,
                },
                "allow_private_network": True,
            },
        )
        result = sync.sync(cadt)
        assert result.ok and result.counts.quarantined == 0, result.error
        via_cadt = _actions(engine, "MNG01")
        assert _count(engine, Authorization, "MNG01") == 1
        assert _count(engine, Holding, "MNG01") > 0

        year = end.year - 1
        aef = RegistryConfig(
            "IDN01",
            "Indonesia via AEF",
            "IDN",
            {
                "connector": {
                    "type": "aef",
                    "url": f"{server.url('IDN01')}/aef/{year}.xlsx",
                    "reported_year": year,
                },
                "allow_private_network": True,
            },
        )
        result = sync.sync(aef)
        assert result.ok and result.counts.quarantined == 0, result.error
        via_aef = _actions(engine, "IDN01")

    expected_mongolia = {
        (p.record["action_id"], *(str(p.record.get(f)) for f in ACTION_FIELDS))
        for p in world.records["MNG01"]
        if p.record["record_type"] == "action"
    }
    assert via_cadt == expected_mongolia
    expected_indonesia = {
        (p.record["action_id"], *(str(p.record.get(f)) for f in ACTION_FIELDS))
        for p in world.records["IDN01"]
        if p.record["record_type"] == "action" and p.record["action_date"].startswith(str(year))
    }
    assert expected_indonesia and via_aef == expected_indonesia
