"""Misbehaving registries (the simulator's fault middleware, real HTTP on loopback, the
real sync engine): after each fault the index is exactly the clean run's."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from metareg.simulator.world import World
from tests.reliability.faultkit import (
    IndexImage,
    SleepRecorder,
    assert_same,
    everywhere,
    image,
    serving,
    sync_until_ok,
    with_faults,
)

# kind, fault options, connector options (a short timeout makes `slow` a timeout)
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "429-storm-retry-after": ("rate-limit", {"probability": 0.4, "retry_after": 7}, {}),
    "5xx-burst": ("error", {"probability": 0.4, "status": 502}, {}),
    "timeouts": ("slow", {"probability": 0.3, "delay_seconds": 0.4}, {"timeout_seconds": 0.1}),
    # A truncated body fails the sync (the connector does not retry a malformed body; see
    # docs/reliability.md); the next polls resume from the last committed page.
    "truncated-json": ("truncate", {"probability": 0.2}, {}),
    "repeated-pages": ("repeat-pages", {"probability": 0.4}, {}),
    "reordered-pages": ("reorder", {"probability": 0.6}, {}),
    # A registry resetting cursors is rare; at 20 % of requests, larger pages let the full
    # resync it forces finish between two resets.
    "cursor-reset": ("reset-cursor", {"probability": 0.2}, {"page_size": 20}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_registry_fault_ends_like_a_clean_run(
    case: str, world: World, reference: IndexImage, engine: Engine
) -> None:
    kind, options, connector = CASES[case]
    sleeps = SleepRecorder()
    faulty = with_faults(world, *everywhere(world, kind, **options))
    with serving(faulty) as server:
        results = sync_until_ok(engine, server, sleep=sleeps, max_rounds=40, **connector)
        hits = {r: server.fault_injector(r).hits.get(kind, 0) for r in world.registry_ids}  # type: ignore[union-attr]
    assert sum(hits.values()) >= 3, f"the fault must really bite: {hits}"
    assert_same(image(engine), reference)
    if kind in ("error", "slow"):
        # Each failed request was retried after a backoff wait (unless the sync gave up).
        assert len(sleeps.waits) >= sum(hits.values()) - _given_up(results)
    if kind == "rate-limit":
        # Every 429 was waited out for exactly the Retry-After the registry asked for.
        assert sleeps.waits.count(7.0) == sum(hits.values()) - _given_up(results)
    if kind == "reset-cursor":
        assert any(r.full_resync for r in results)


def _given_up(results: list[Any]) -> int:
    """Syncs that gave up (max_attempts reached): their last failed request is not waited."""
    return sum(1 for r in results if not r.ok)
