"""A registry down for many poll intervals, then back: SY01 is raised once the outage
outlasts the staleness limit (3 poll intervals), resolved by the first good sync, and the
records the registry published meanwhile all arrive: the index is exactly the one a run
without the outage builds on the same schedule. Time is driven through `now=` (of the
syncs and of the checks that follow each poll)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from metareg.alerts.store import alerts_table
from metareg.checks.runner import run_checks
from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.simulator.clock import SimClock
from metareg.simulator.scenario import FaultSpec
from metareg.simulator.world import World
from tests.reliability.faultkit import (
    SleepRecorder,
    assert_same,
    image,
    registry_config,
    serving,
    sync_once,
    utc,
    with_faults,
)

REGISTRY = "JPN01"
POLL = timedelta(minutes=15)  # the default schedule: SY01 after 45 minutes
BEFORE, DURING_OUTAGE = date(2024, 3, 1), date(2024, 12, 31)
T0 = utc(2025, 1, 6, 9)


def _sy01(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(alerts_table).where(alerts_table.c.rule == "SY01"))
        return [dict(r) for r in rows.mappings()]


def _at(moment: datetime) -> Any:
    return lambda: moment


def test_registry_down_for_hours_then_back(world: World, engine: Engine, tmp_path: Path) -> None:
    down = FaultSpec(REGISTRY, "down", probability=0.0)  # switched on below
    clock = SimClock(world.scenario.start, world.scenario.end, frozen=True)
    clock.hold(BEFORE)
    sleeps = SleepRecorder()
    with serving(with_faults(world, down), clock) as server:
        injector = server.fault_injector(REGISTRY)
        assert injector is not None
        registry = registry_config(server, REGISTRY, max_attempts=3)
        assert sync_once(engine, registry, sleeps, _at(T0)).ok
        before = image(engine).counts["action"]

        # The registry goes down, and keeps working behind the outage.
        injector.faults[0] = replace(down, probability=1.0)
        clock.hold(DURING_OUTAGE)
        polls = 12  # three hours of polls
        for poll in range(1, polls + 1):
            moment = T0 + poll * POLL
            result = sync_once(engine, registry, sleeps, _at(moment))
            assert not result.ok and result.error_kind == "transient"
            run_checks(engine, now=moment)
            raised = _sy01(engine)
            if moment - T0 <= 3 * POLL:
                assert raised == [], f"SY01 within the staleness limit (poll {poll})"
            else:
                (alert,) = raised  # one alert, refreshed, never duplicated
                assert alert["status"] == "open" and alert["registries"] == [REGISTRY]
        assert injector.hits["down"] == polls * 3  # every attempt met the outage
        assert len(sleeps.waits) == polls * 2  # retried with backoff between attempts

        # Back: the first poll syncs everything published meanwhile and resolves SY01.
        injector.faults[0] = down
        clock.hold(world.scenario.end)
        back_at = T0 + (polls + 1) * POLL
        back = sync_once(engine, registry, sleeps, _at(back_at))
        assert back.ok and back.counts.accepted > 0
        run_checks(engine, now=back_at)
        (alert,) = _sy01(engine)
        assert alert["status"] == "resolved"
    assert image(engine).counts["action"] > before

    # The same schedule without the outage: a poll at BEFORE, one at the world's end.
    clean = make_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    migrate.upgrade(clean)
    clock.hold(BEFORE)
    with serving(world, clock) as server:
        registry = registry_config(server, REGISTRY)
        assert sync_once(clean, registry, None, _at(T0)).ok
        clock.hold(world.scenario.end)
        assert sync_once(clean, registry, None, _at(T0 + POLL)).ok
    assert_same(image(engine), image(clean))
    clean.dispose()
