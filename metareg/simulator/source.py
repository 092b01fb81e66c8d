"""A simulated registry as a `FeedSource` (the exchange contract).

It is the reference `InMemoryFeedSource` whose `refresh` (run before each answer)
publishes every record of the world whose day has come on the simulated clock, and
every holdings snapshot published by then. So cursors, pages, totals and blocks behave
exactly as the reference registry's, and each poll sees the actions that happened since
the last.
"""

from __future__ import annotations

import threading
from typing import Any

from metareg.exchange.memory import InMemoryFeedSource
from metareg.simulator.clock import SimClock
from metareg.simulator.world import World


class SimulatedRegistry(InMemoryFeedSource):
    def __init__(self, world: World, registry_id: str, clock: SimClock) -> None:
        spec = world.scenario.registry(registry_id)
        super().__init__(registry_id, spec.name, spec.party)
        self.world = world
        self.clock = clock
        self._world_records = world.records.get(registry_id, [])
        self._world_snapshots = world.snapshots.get(registry_id, [])
        self._world_records_published = 0
        self._world_snapshots_published = 0
        self._publishing = threading.Lock()

    def refresh(self) -> None:
        """Publish what the registry has done up to the simulated today."""
        today = self.clock.today()
        with self._publishing:
            while (
                self._world_records_published < len(self._world_records)
                and self._world_records[self._world_records_published].published <= today
            ):
                self.upsert(self._world_records[self._world_records_published].record)
                self._world_records_published += 1
            while (
                self._world_snapshots_published < len(self._world_snapshots)
                and self._world_snapshots[self._world_snapshots_published].published <= today
            ):
                snapshot = self._world_snapshots[self._world_snapshots_published]
                self.set_holdings(snapshot.as_of.isoformat(), list(snapshot.rows))
                self._world_snapshots_published += 1

    def info(self) -> dict[str, Any]:
        return {**super().info(), "simulated_date": self.clock.today().isoformat()}
