"""`metareg demo`: the README's first command.

One process: a fresh SQLite index in `./metareg-demo/` (or `--dir`), the default
scenario's simulated registries on loopback, a sync loop with short intervals that runs
the checks after every round, and the oversight API with its dashboard. The terminal
shows each sync round and each alert as it opens, and prints the exact `metareg`
commands that read the same index. Ctrl-C stops everything cleanly.

`--rounds N` is the bounded mode: N rounds stepping simulated time from the world's
start to its end, no web server, then a summary (planted conflicts found) and exit.
"""

from __future__ import annotations

import shlex
import socket
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from metareg.cli.context import console, fail, options
from metareg.cli.simulate import SCENARIO_HELP, build_world

if TYPE_CHECKING:
    from metareg.cli.live_demo import DemoStack, RoundReport

DEFAULT_DIR = Path("metareg-demo")
MARKER = ".metareg-demo"  # a folder holding it was made by the demo: a new demo replaces it
DEMO_FILES = (
    "metareg.db",
    "metareg.db-wal",
    "metareg.db-shm",
    "registries.toml",
    "planted-truth.json",
)
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def _free_port(host: str, wanted: int) -> int:
    """`wanted` if it is free (0: any), else any free port (a second demo must start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, wanted))
        except OSError:
            probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _prepare(folder: Path) -> None:
    """Make `folder` ready for a fresh index: a folder an earlier demo made loses that
    demo's files (nothing else); any other folder must not hold an index yet."""
    if (folder / MARKER).exists():
        for name in DEMO_FILES:
            (folder / name).unlink(missing_ok=True)
    elif (folder / "metareg.db").exists():
        raise fail(
            f"{folder / 'metareg.db'} already exists and is not a demo's; the demo starts "
            "from a fresh index, so give it an empty --dir"
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by `metareg demo`; the next demo replaces it\n", "utf-8")


def _shown(path: Path) -> str:
    """`path` as short as it can be said from the working directory."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(resolved)


def cli_hint(folder: Path) -> tuple[str, str]:
    """The global options that read the demo's index, and the `export` line that makes
    them the default for the commands that follow."""
    where = _shown(folder)
    db = f"sqlite:///{where}/metareg.db"
    options_ = f"--db {shlex.quote(db)} --config {shlex.quote(where)}"
    export = (
        f"export METAREG_DATABASE_URL={shlex.quote(db)} METAREG_CONFIG_DIR={shlex.quote(where)}"
    )
    return options_, export


def round_printer(stack_world_conflicts: int) -> Any:
    """The demo terminal: one line per round that brought something, one per alert."""
    found: set[str] = set()

    def show(report: RoundReport) -> None:
        if report.changed or report.failed or report.new_alerts:
            failed = f", [red]failed: {', '.join(report.failed)}[/]" if report.failed else ""
            console.print(
                f"[dim]round {report.number:>3}[/]  world day {report.day}  "
                f"{report.synced} registries synced, {report.changed} new or changed "
                f"records{failed}",
                highlight=False,
            )
        for alert in report.new_alerts:
            if str(alert["rule"]).startswith("DC"):
                found.add(alert["id"])
            style = SEVERITY_STYLE.get(str(alert["severity"]), "white")
            console.print(
                f"  [{style}]alert {alert['rule']} {alert['severity']}[/] "
                f"{alert['name']}: {alert['message']}",
                highlight=False,
            )
        if report.new_alerts:
            console.print(
                f"  [dim]{len(found)} double-counting alerts opened so far; "
                f"{stack_world_conflicts} conflicts were planted[/]",
                highlight=False,
            )

    return show


def _days(start: date, end: date, rounds: int) -> list[date]:
    """`rounds` days from `start` to `end`, evenly spaced, the last one `end`."""
    span = (end - start).days
    return [start + timedelta(days=span * n // rounds) for n in range(1, rounds + 1)]


def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(
        DEFAULT_DIR,
        "--dir",
        help="Where to keep the demo's index; a folder an earlier demo made is replaced.",
    ),
    scenario: Path | None = typer.Option(
        None, "--scenario", help=SCENARIO_HELP, show_default=False
    ),
    seed: int | None = typer.Option(None, "--seed", help="Override the scenario's seed."),
    port: int = typer.Option(8000, "--port", help="Port of the API and dashboard."),
    interval: float = typer.Option(2.0, "--interval", help="Seconds between sync rounds."),
    speed: float | None = typer.Option(
        None, "--speed", help="Simulated days per second (default: the scenario's)."
    ),
    rounds: int | None = typer.Option(
        None,
        "--rounds",
        min=1,
        help="Run this many sync rounds from the world's start to its end, without the "
        "web server, then print what was found and exit.",
    ),
) -> None:
    """Watch a meta-registry sync a world of simulated Article 6.2 registries, catch the
    double counting planted in it, and show it on a dashboard."""
    from metareg import log
    from metareg.cli.live_demo import build_demo
    from metareg.simulator.truth import write_truth

    opts = options(ctx)
    if interval <= 0 or (speed is not None and speed <= 0):
        raise fail("--interval and --speed must be positive")
    world = build_world(opts.config, scenario, seed)
    folder = directory
    _prepare(folder)
    host = "127.0.0.1"
    port = _free_port(host, port) if rounds is None else port
    url = f"http://{host}:{port}"
    if not ctx.find_root().params.get("verbose"):
        log.configure(json_logs=opts.json_logs, level="WARNING")  # keep the demo's screen calm
    stack = build_demo(
        folder,
        world,
        interval=interval,
        days_per_second=speed,
        base_url=url,
        on_round=round_printer(len(world.conflicts)),
    )
    write_truth(world, folder / "planted-truth.json")
    spec = world.scenario
    console.print(
        f"[bold]metareg demo[/]: scenario {spec.name!r} (seed {spec.seed}), "
        f"{len(spec.registries)} simulated registries, {len(world.conflicts)} planted "
        f"conflicts; simulated time runs from {spec.clock.start} to {spec.end}.",
        highlight=False,
    )
    global_options, export = cli_hint(folder)
    if rounds is not None:
        _bounded(stack, rounds, global_options, export)
        return
    _serve(stack, host, port, url, global_options, export)


def _hints(global_options: str, export: str) -> None:
    # Plain lines (never wrapped), so a command or key can be copied whole.
    typer.echo("The metareg command reads the same index (from this folder):")
    typer.echo(f"  metareg {global_options} status")
    typer.echo(f"  metareg {global_options} alerts --status open")
    typer.echo(f"  or, for every command that follows: {export}")


def _bounded(stack: DemoStack, rounds: int, global_options: str, export: str) -> None:
    from metareg.alerts.store import list_alerts
    from metareg.simulator.truth import score, truth_document

    spec = stack.world.scenario
    stack.simulator.start()
    try:
        for day in _days(spec.clock.start, spec.end, rounds):
            stack.loop.run_round(day)
        with stack.engine.connect() as connection:
            alerts = list_alerts(connection, limit=100_000)
    finally:
        stack.stop()
    result = score(truth_document(stack.world)["conflicts"], alerts)
    console.print(
        f"[bold]{rounds} rounds[/]: {len(alerts)} alerts; planted conflicts found: "
        f"{len(result.matched)} of {len(result.matched) + len(result.missed)}",
        highlight=False,
    )
    _hints(global_options, export)


def _serve(
    stack: DemoStack, host: str, port: int, url: str, global_options: str, export: str
) -> None:
    import uvicorn

    from metareg.web.serving import uvicorn_config

    typer.echo(f"  dashboard:  {url}/dashboard")
    typer.echo(f"  API docs:   {url}/docs")
    typer.echo(f"  oversight API key (log in with it): {stack.oversight_key}")
    typer.echo(f"  admin API key (can also acknowledge alerts): {stack.admin_key}")
    _hints(global_options, export)
    typer.echo("Sync rounds and alerts appear below as they happen. Ctrl-C stops everything.")
    stack.simulator.start()
    stack.loop.start()
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
        console.print(f"stopped; the index stays in {_shown(stack.folder)}", highlight=False)
