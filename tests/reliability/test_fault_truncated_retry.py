"""A registry that cuts a JSON body short (the simulator's `truncate` fault): the
connector repeats that request with backoff (metareg.connectors.body.fetch_json), so each
sync completes in one poll and the index ends exactly as in a clean run."""

from __future__ import annotations

from sqlalchemy import Engine

from metareg.simulator.world import World
from tests.reliability.faultkit import (
    IndexImage,
    assert_same,
    everywhere,
    image,
    serving,
    sync_until_ok,
    with_faults,
)


def test_truncated_body_is_retried_within_the_sync(
    world: World, reference: IndexImage, engine: Engine
) -> None:
    faulty = with_faults(world, *everywhere(world, "truncate", probability=0.2))
    with serving(faulty) as server:
        results = sync_until_ok(engine, server, max_rounds=1)
        hits = sum(server.fault_injector(r).hits.get("truncate", 0) for r in world.registry_ids)  # type: ignore[union-attr]
    assert hits >= 3 and all(r.ok for r in results)
    assert_same(image(engine), reference)
