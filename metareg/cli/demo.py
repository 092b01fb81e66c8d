"""`metareg demo`: the README's first command.

One process: a fresh SQLite index (in a new temporary folder, or `--dir`), the default
scenario's simulated registries on loopback, a sync loop with short intervals that runs
the checks after every round, and the oversight API with its dashboard. It prints the
dashboard's address and API keys; Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import typer

from metareg import log
from metareg.cli.context import console, fail, options
from metareg.cli.simulate import build_world


def _free_port(host: str, wanted: int) -> int:
    """`wanted` if it is free (0: any), else any free port (a second demo must start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, wanted))
        except OSError:
            probe.bind((host, 0))
        return int(probe.getsockname()[1])


def demo(
    ctx: typer.Context,
    directory: Path | None = typer.Option(
        None, "--dir", help="Where to create the demo index (default: a new temporary folder)."
    ),
    scenario: Path | None = typer.Option(
        None, "--scenario", help="Scenario TOML (default: config/scenarios/jcm.toml)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Override the scenario's seed."),
    port: int = typer.Option(8000, "--port", help="Port of the API and dashboard."),
    interval: float = typer.Option(2.0, "--interval", help="Seconds between sync rounds."),
    speed: float | None = typer.Option(
        None, "--speed", help="Simulated days per second (default: the scenario's)."
    ),
) -> None:
    """Watch a meta-registry sync a world of simulated Article 6.2 registries, catch the
    double counting planted in it, and show it on a dashboard."""
    import uvicorn

    from metareg.cli.live_demo import build_demo
    from metareg.simulator.truth import write_truth
    from metareg.web.serving import uvicorn_config

    opts = options(ctx)
    world = build_world(opts.config, scenario, seed)
    if interval <= 0 or (speed is not None and speed <= 0):
        raise fail("--interval and --speed must be positive")
    host = "127.0.0.1"
    port = _free_port(host, port)
    url = f"http://{host}:{port}"
    folder = directory or Path(tempfile.mkdtemp(prefix="metareg-demo-"))
    try:
        stack = build_demo(folder, world, interval=interval, days_per_second=speed, base_url=url)
    except FileExistsError as error:
        raise fail(str(error)) from None
    write_truth(world, folder / "planted-truth.json")
    spec = world.scenario
    stack.simulator.start()
    stack.loop.start()
    console.print(
        f"[bold]metareg demo[/]: scenario {spec.name!r} (seed {spec.seed}), "
        f"{len(spec.registries)} simulated registries, {len(world.conflicts)} planted "
        f"conflicts; simulated time runs from {spec.clock.start} to {spec.end}."
    )
    # Plain lines (never wrapped), so a key can be copied whole.
    typer.echo(f"  index:      {folder / 'metareg.db'}")
    typer.echo(f"  dashboard:  {url}/dashboard")
    typer.echo(f"  API docs:   {url}/docs")
    typer.echo(f"  oversight API key (log in with it): {stack.oversight_key}")
    typer.echo(f"  admin API key (can also acknowledge alerts): {stack.admin_key}")
    typer.echo("Alerts appear within a minute. Ctrl-C stops everything.")
    if not ctx.find_root().params.get("verbose"):
        log.configure(json_logs=opts.json_logs, level="WARNING")  # keep the demo's screen calm
    try:
        config = uvicorn_config(
            stack.app,
            stack.app.state.settings,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,  # open live-update streams must not hold Ctrl-C
        )
        uvicorn.Server(config).run()
    finally:
        stack.stop()
        console.print(f"stopped; the index stays in {folder}")
