"""What the fault tests share: a seeded simulated world, serving it with faults, syncing
it with the real engine over loopback, and comparing an index with a clean run's.

"Identical to a clean run" means: the same number of rows in every index table, and the
same multiset of content hashes of the current records and of the history versions
(keyed by registry, record type and uid, so a difference names the record).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from metareg.connectors import build_connector
from metareg.db.tables.index import CURRENT_TABLES, Quarantine, RecordVersion
from metareg.registries import RegistryConfig
from metareg.simulator.clock import SimClock
from metareg.simulator.runner import SimulatorServer
from metareg.simulator.scenario import FaultSpec, parse_scenario
from metareg.simulator.world import World, generate_world, party_of
from metareg.sync.engine import SyncEngine, SyncResult

SCENARIO = Path(__file__).resolve().parents[2] / "config" / "scenarios" / "faults.toml"
PAGE_SIZE = 10  # small pages: every registry's feed spans several requests
PROJECTS = 20  # enough records that each registry's feed is a few pages long
# Retries stay fast without weakening them: the backoff the client computes is recorded
# (see `SleepRecorder`) and only the real wait is skipped.
FAST_CONNECTOR = {"max_attempts": 6, "timeout_seconds": 5}

_history = RecordVersion
_quarantine = Quarantine


def fault_world() -> World:
    """The reliability scenario's world (config/scenarios/faults.toml, seed 11), grown
    to PROJECTS projects, with its faults removed: each test adds the faults it studies."""
    document = tomllib.loads(SCENARIO.read_text())
    document["generate"]["projects"] = PROJECTS
    document.pop("faults", None)
    return generate_world(parse_scenario(document, str(SCENARIO)))


def with_faults(world: World, *faults: FaultSpec) -> World:
    return replace(world, scenario=replace(world.scenario, faults=tuple(faults)))


def everywhere(world: World, kind: str, **options: Any) -> list[FaultSpec]:
    """The same fault in front of every registry of the world."""
    return [FaultSpec(registry=r, kind=kind, **options) for r in world.registry_ids]


@contextmanager
def serving(world: World, clock: SimClock | None = None) -> Iterator[SimulatorServer]:
    """The world's registries on loopback, frozen at the world's end unless told."""
    server = SimulatorServer(world, clock or SimClock.frozen_at(world.scenario.end)).start()
    try:
        yield server
    finally:
        server.stop()


def registry_config(server: SimulatorServer, registry_id: str, **connector: Any) -> RegistryConfig:
    return exchange_config(registry_id, server.url(registry_id), **connector)


def exchange_config(registry_id: str, url: str, **connector: Any) -> RegistryConfig:
    """How the meta-registry is configured for one simulated registry (as the clean run)."""
    settings = {
        "connector": {
            "type": "exchange",
            "url": url,
            "page_size": PAGE_SIZE,
            **FAST_CONNECTOR,
            **connector,
        },
        "allow_private_network": True,
    }
    return RegistryConfig(
        registry_id, f"{registry_id} (simulated)", party_of(registry_id), settings
    )


@dataclass
class SleepRecorder:
    """Injected as the HTTP client's sleep: keeps every wait it was asked for."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def sync_once(
    engine: Engine,
    registry: RegistryConfig,
    sleep: SleepRecorder | None = None,
    now: Callable[[], datetime] | None = None,
) -> SyncResult:
    """One real sync (engine + exchange connector over HTTP), retries' sleeps recorded."""
    connector = build_connector(registry, sleep=sleep or SleepRecorder())
    try:
        return SyncEngine(engine).sync(registry, connector, now=now)
    finally:
        connector.close()


def sync_until_ok(
    engine: Engine,
    server: SimulatorServer,
    registry_ids: list[str] | None = None,
    *,
    sleep: SleepRecorder | None = None,
    max_rounds: int = 10,
    **connector: Any,
) -> list[SyncResult]:
    """Poll each registry as the worker would, until one sync completes; every result."""
    results: list[SyncResult] = []
    for registry_id in registry_ids or server.world.registry_ids:
        registry = registry_config(server, registry_id, **connector)
        for _ in range(max_rounds):
            result = sync_once(engine, registry, sleep)
            results.append(result)
            if result.ok:
                break
        else:
            raise AssertionError(f"{registry_id} never synced: {result.error}")
    return results


@dataclass(frozen=True)
class IndexImage:
    """What an index holds, in the terms of the comparison (see the module docstring)."""

    counts: dict[str, int]
    current: Counter[tuple[str, str, str, str]]
    history: Counter[tuple[str, str, str, str, str | None]]
    quarantined: Counter[str]  # quarantine rows per registry

    def only(self, registry_ids: set[str]) -> IndexImage:
        current = Counter({k: n for k, n in self.current.items() if k[0] in registry_ids})
        history = Counter({k: n for k, n in self.history.items() if k[0] in registry_ids})
        counts = {
            **{t: sum(n for k, n in current.items() if k[1] == t) for t in CURRENT_TABLES},
            "record_version": sum(history.values()),
            "quarantine": sum(n for r, n in self.quarantined.items() if r in registry_ids),
        }
        quarantined = Counter({r: n for r, n in self.quarantined.items() if r in registry_ids})
        return IndexImage(counts, current, history, quarantined)


def image(engine: Engine) -> IndexImage:
    counts: dict[str, int] = {}
    current: Counter[tuple[str, str, str, str]] = Counter()
    with engine.connect() as connection:
        for record_type, model in CURRENT_TABLES.items():
            table = model
            rows = connection.execute(
                select(table.c.registry_id, table.c.uid, table.c.content_hash)
            ).all()
            counts[record_type] = len(rows)
            current.update((r[0], record_type, r[1], r[2]) for r in rows)
        versions = connection.execute(
            select(
                _history.c.registry_id,
                _history.c.record_type,
                _history.c.uid,
                _history.c.change,
                _history.c.content_hash,
            )
        ).all()
        counts["record_version"] = len(versions)
        quarantined = Counter(
            dict(
                connection.execute(
                    select(_quarantine.c.registry_id, func.count()).group_by(
                        _quarantine.c.registry_id
                    )
                ).all()
            )
        )
    counts["quarantine"] = sum(quarantined.values())
    history = Counter((r[0], r[1], r[2], r[3], r[4]) for r in versions)
    return IndexImage(counts, current, history, quarantined)


def assert_same(actual: IndexImage, reference: IndexImage) -> None:
    """Exact counts per table, then the multisets (their difference names the records)."""
    missing = reference.current - actual.current
    extra = actual.current - reference.current
    assert not missing and not extra, f"current: missing {missing}, extra {extra}"
    missing_h = reference.history - actual.history
    extra_h = actual.history - reference.history
    assert not missing_h and not extra_h, f"history: missing {missing_h}, extra {extra_h}"
    assert actual.counts == reference.counts, f"{actual.counts} != {reference.counts}"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
