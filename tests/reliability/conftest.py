"""Shared fixtures of the reliability suite (faults: test_fault_*; hostile input and
security: test_hostile_*, test_security_*)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from metareg import log
from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.simulator.world import World
from tests.reliability.faultkit import IndexImage, fault_world, image, serving, sync_until_ok


@pytest.fixture(autouse=True)
def _fresh_logging() -> None:
    log.configure()  # an earlier CLI test may have bound logging to a closed stream


@pytest.fixture(scope="session")
def world() -> World:
    """The seeded world every fault test syncs (no faults of its own)."""
    return fault_world()


@pytest.fixture(scope="session")
def reference(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexImage]:
    """The clean run: the same world synced without faults, into a fresh SQLite index."""
    path: Path = tmp_path_factory.mktemp("reference") / "clean.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with serving(world) as server:
        results = sync_until_ok(engine, server, max_rounds=1)
    assert all(r.ok and r.pages > 1 for r in results)
    clean = image(engine)
    engine.dispose()
    assert clean.counts["quarantine"] == 0 and clean.counts["action"] > 50
    yield clean
