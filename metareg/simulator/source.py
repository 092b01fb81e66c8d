"""A simulated registry as a `FeedSource` (engineer B's exchange contract).

It wraps the reference `InMemoryFeedSource` and, before each answer, publishes into it
every record of the world whose day has come on the simulated clock, and every holdings
snapshot published by then. So cursors, totals and blocks behave exactly as the
reference registry's, and each poll sees the actions that happened since the last.
"""

from __future__ import annotations

import threading
from typing import Any

from metareg.exchange.memory import InMemoryFeedSource
from metareg.exchange.source import BlocksPage, ChangesPage, HoldingsPage, TotalsReport
from metareg.simulator.clock import SimClock
from metareg.simulator.world import World


class SimulatedRegistry:
    def __init__(self, world: World, registry_id: str, clock: SimClock) -> None:
        spec = world.scenario.registry(registry_id)
        self.registry_id = registry_id
        self.world = world
        self.clock = clock
        self.inner = InMemoryFeedSource(registry_id, spec.name, spec.party)
        self._records = world.records.get(registry_id, [])
        self._snapshots = world.snapshots.get(registry_id, [])
        self._published = 0
        self._snapshots_published = 0
        self._lock = threading.Lock()

    def advance(self) -> None:
        """Publish what the registry has done up to the simulated today."""
        today = self.clock.today()
        with self._lock:
            while (
                self._published < len(self._records)
                and self._records[self._published].published <= today
            ):
                self.inner.upsert(self._records[self._published].record)
                self._published += 1
            while (
                self._snapshots_published < len(self._snapshots)
                and self._snapshots[self._snapshots_published].published <= today
            ):
                snapshot = self._snapshots[self._snapshots_published]
                self.inner.set_holdings(snapshot.as_of.isoformat(), list(snapshot.rows))
                self._snapshots_published += 1

    # -- FeedSource ------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        info = self.inner.info()
        info["simulated_date"] = self.clock.today().isoformat()
        return info

    def changes(self, cursor: str | None, limit: int) -> ChangesPage:
        self.advance()
        return self.inner.changes(cursor, limit)

    def holdings(self, as_of: str | None, cursor: str | None, limit: int) -> HoldingsPage:
        self.advance()
        return self.inner.holdings(as_of, cursor, limit)

    def totals(self) -> TotalsReport:
        self.advance()
        return self.inner.totals()

    def blocks(
        self,
        cooperative_approach_id: str | None,
        vintage: int | None,
        cursor: str | None,
        limit: int,
    ) -> BlocksPage:
        self.advance()
        return self.inner.blocks(cooperative_approach_id, vintage, cursor, limit)
