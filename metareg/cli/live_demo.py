"""The whole demo in one process: simulated registries, a fresh index, the sync loop,
the checks, and the oversight API with its dashboard.

The sync loop steps simulated time one round at a time: it holds the world at the day
the clock has reached, syncs every registry, then runs the checks "as of" that same day.
So each round sees one consistent world (no registry a day ahead of another) and the
only alerts are the conflicts the scenario planted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from metareg import log
from metareg.registries import RegistryConfig, store_configured
from metareg.simulator.clock import SimClock
from metareg.simulator.runner import SimulatorServer
from metareg.simulator.world import World

_log = log.get_logger("metareg.demo")


@dataclass
class RoundReport:
    day: date
    number: int = 0
    synced: int = 0
    received: int = 0  # records the registries reported this round
    changed: int = 0  # of them, new, corrected or withdrawn in the index
    failed: list[str] = field(default_factory=list)
    alerts_opened: int = 0
    new_alerts: list[dict[str, Any]] = field(default_factory=list)  # first seen this round


class DemoLoop:
    """Sync every simulated registry as one round, then check, every `interval` seconds."""

    def __init__(
        self,
        engine: Engine,
        world: World,
        clock: SimClock,
        configs: list[RegistryConfig],
        interval: float = 2.0,
        on_round: Callable[[RoundReport], None] | None = None,
    ) -> None:
        from metareg.sync.worker import Worker

        self.engine = engine
        self.world = world
        self.clock = clock
        self.configs = configs
        self.interval = interval
        self.worker = Worker(engine, configs, after_round=self._checks)
        self.rounds: list[RoundReport] = []
        self.on_round = on_round  # the demo terminal's display of each round
        self._seen_alerts: set[str] = set()
        self._day = clock.live_today()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.first_round_done = threading.Event()

    def _checks(self, engine: Engine) -> Any:
        """The after-round hook: the checks as of the day the round synced."""
        from metareg.checks.runner import run_checks

        return run_checks(engine, as_of=self._day, grace_days=self.world.scenario.grace_days)

    def run_round(self, day: date | None = None) -> RoundReport:
        """One round at `day` (default: where the running clock has got to)."""
        day = day or self.clock.live_today()
        self.clock.hold(day)
        self._day = day
        report = RoundReport(day, number=len(self.rounds) + 1)
        with self.worker.round() as sync_round:
            for config in self.configs:
                if self._stop.is_set():
                    sync_round.abandon()
                    return report
                result = sync_round.sync(config.id)
                if result is not None and result.ok:
                    report.synced += 1
                    report.received += result.received
                    counts = result.counts
                    report.changed += counts.accepted + counts.corrected + counts.withdrawn
                else:
                    report.failed.append(config.id)
        summary = sync_round.after
        if summary is not None:
            report.alerts_opened = sum(summary.opened.values()) + sum(summary.reopened.values())
        report.new_alerts = self._new_alerts()
        self.rounds.append(report)
        if self.on_round is not None:
            self.on_round(report)
        return report

    def _new_alerts(self) -> list[dict[str, Any]]:
        """The open alerts no earlier round saw, oldest first."""
        from metareg.alerts.store import list_alerts

        with self.engine.connect() as connection:
            found = list_alerts(connection, status="open", limit=100_000)
        new = [alert for alert in found if alert["id"] not in self._seen_alerts]
        self._seen_alerts.update(alert["id"] for alert in new)
        return sorted(new, key=lambda alert: str(alert.get("first_seen") or ""))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_round()
            except Exception:  # a round that fails is logged; the next one tries again
                _log.exception("demo round failed")
            self.first_round_done.set()
            self._stop.wait(self.interval)

    def start(self) -> DemoLoop:
        self._thread = threading.Thread(target=self._run, name="metareg-demo-sync", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


@dataclass
class DemoStack:
    """Everything `metareg demo` runs, started and stopped together."""

    folder: Path
    engine: Engine
    world: World
    simulator: SimulatorServer
    loop: DemoLoop
    app: Any
    oversight_key: str
    admin_key: str

    def stop(self) -> None:
        self.loop.stop()
        self.simulator.stop()
        self.engine.dispose()


def build_demo(
    folder: Path,
    world: World,
    *,
    interval: float = 2.0,
    days_per_second: float | None = None,
    base_url: str = "http://127.0.0.1:8000",
    on_round: Callable[[RoundReport], None] | None = None,
) -> DemoStack:
    """A fresh index in `folder` (which must not hold one yet), the simulator serving
    `world`, the sync loop (not started) and the API app (not served)."""
    from metareg.index.open import open_index
    from metareg.oversight.keys import create_key
    from metareg.web.app import create_app
    from metareg.web.settings import ApiSettings

    database = folder / "metareg.db"
    if database.exists():
        raise FileExistsError(
            f"{database} already exists; the demo starts from a fresh index, so give it an "
            "empty --dir (or none, for a new temporary folder)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    spec = world.scenario
    clock = SimClock(spec.clock.start, spec.end, days_per_second or spec.clock.days_per_second)
    simulator = SimulatorServer(world, clock)
    configs = simulator.registry_configs(interval_seconds=interval)
    (folder / "registries.toml").write_text(simulator.registries_toml(interval), "utf-8")
    engine = open_index(f"sqlite:///{database}")
    with engine.begin() as connection:
        store_configured(connection, configs)
        _, oversight = create_key(connection, "demo oversight", "oversight")
        _, admin = create_key(connection, "demo admin", "admin")
    settings = ApiSettings(config=folder, base_url=base_url)
    app = create_app(engine, settings=settings)
    loop = DemoLoop(engine, world, clock, configs, interval, on_round=on_round)
    return DemoStack(folder, engine, world, simulator, loop, app, oversight, admin)
