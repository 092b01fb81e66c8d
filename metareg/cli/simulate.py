"""`metareg simulate`: serve a world of simulated Article 6.2 registries on loopback."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from metareg.cli.context import console, fail, options
from metareg.settings import packaged_defaults

if TYPE_CHECKING:
    from metareg.simulator.world import World

DEFAULT_SCENARIO = "jcm"
SCENARIO_HELP = (
    "A scenario: a TOML file, or the name of a shipped one (jcm, all-rules, faults). Default: jcm."
)


def scenario_file(config_dir: Path, scenario: Path | None) -> Path:
    """The scenario file: a path as given, else by name from the configuration's
    `scenarios/` folder, else from the scenarios shipped in the package."""
    if scenario is not None and (scenario.suffix or len(scenario.parts) > 1):
        return scenario
    name = str(scenario or DEFAULT_SCENARIO)
    for folder in (config_dir / "scenarios", packaged_defaults() / "scenarios"):
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    shipped = sorted(p.stem for p in (packaged_defaults() / "scenarios").glob("*.toml"))
    raise fail(f"no scenario named {name!r}; shipped: {', '.join(shipped)}")


def build_world(config_dir: Path, scenario_path: Path | None, seed: int | None) -> World:
    """Load (default: the shipped JCM world) and generate; clear errors."""
    from metareg.simulator.scenario import Scenario, ScenarioError, load_scenario
    from metareg.simulator.world import generate_world

    path = scenario_file(config_dir, scenario_path)
    try:
        scenario: Scenario = load_scenario(path)
        if seed is not None:
            scenario = scenario.with_seed(seed)
        return generate_world(scenario)
    except ScenarioError as error:
        raise fail(str(error)) from None


def simulate(
    ctx: typer.Context,
    scenario: Path | None = typer.Option(
        None, "--scenario", help=SCENARIO_HELP, show_default=False
    ),
    seed: int | None = typer.Option(None, "--seed", help="Override the scenario's seed."),
    port: int = typer.Option(
        0, "--port", help="First port (registries take consecutive ports; 0: any free ones)."
    ),
    truth: Path | None = typer.Option(
        None, "--truth", help="Write the planted ground truth (JSON) to this file."
    ),
    registries_out: Path | None = typer.Option(
        None,
        "--registries-out",
        help="Write a registries.toml pointing a meta-registry at the simulated registries.",
    ),
    at: str | None = typer.Option(
        None, "--at", help="Freeze simulated time at this date (YYYY-MM-DD) instead of moving."
    ),
    speed: float | None = typer.Option(
        None, "--speed", help="Simulated days per second (default: the scenario's)."
    ),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (0.0.0.0 in a container)."
    ),
    advertise: str | None = typer.Option(
        None,
        "--advertise",
        help="Host name the --registries-out URLs use (default: the --host address).",
    ),
    sync_interval: float | None = typer.Option(
        None,
        "--sync-interval",
        min=0.1,
        help="Seconds between syncs that --registries-out schedules (default: metareg's).",
    ),
) -> None:
    """Serve simulated participating registries, each on its own port, speaking the
    exchange API, until Ctrl-C (or SIGTERM)."""
    from metareg.simulator.clock import SimClock
    from metareg.simulator.runner import SimulatorServer
    from metareg.simulator.truth import write_truth

    opts = options(ctx)
    world = build_world(opts.config, scenario, seed)
    spec = world.scenario
    if at is not None:
        try:
            clock = SimClock.frozen_at(date.fromisoformat(at))
        except ValueError:
            raise fail(f"--at {at!r} is not a date (YYYY-MM-DD)") from None
    else:
        if speed is not None and speed <= 0:
            raise fail("--speed must be positive")
        clock = SimClock(spec.clock.start, spec.end, speed or spec.clock.days_per_second)
    if truth is not None:
        write_truth(world, truth)
        console.print(f"planted ground truth: {truth} ({len(world.conflicts)} conflicts)")
    try:
        server = SimulatorServer(world, clock, host, port, advertise=advertise)
    except OSError as error:
        raise fail(f"cannot listen on port {port}: {error}") from None
    if registries_out is not None:
        registries_out.parent.mkdir(parents=True, exist_ok=True)
        partial = registries_out.with_name(registries_out.name + ".partial")
        partial.write_text(server.registries_toml(sync_interval), "utf-8")
        partial.replace(registries_out)  # whole or absent: a worker waits for it
        console.print(f"registries config: {registries_out}")
    total = sum(len(r) for r in world.records.values())
    console.print(
        f"scenario {spec.name!r} seed {spec.seed}: {total} records, "
        f"{len(world.conflicts)} planted conflicts; simulated time from {clock.today()}"
    )
    for registry, url in server.urls.items():
        console.print(f"  {registry}  {url}/exchange/v1/info")
    console.print("Ctrl-C stops.")
    import asyncio  # here, not at the top: every command imports this module

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve())
