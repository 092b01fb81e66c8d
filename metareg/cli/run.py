"""`metareg run`: the scheduler and the syncs in one long-running process.

Every registry with a connector is synced at start and then on its schedule, the
registries of one schedule together as a round after which the checks run; several
`metareg run` processes (on PostgreSQL, on different hosts) share the registries through
leases. With `--api`, the same process also serves the HTTP API (when it is installed).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from metareg.cli.context import console, fail, options
from metareg.cli.sync import configured_registries

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import Engine

WEBHOOK_INTERVAL_SECONDS = 15


def run(
    ctx: typer.Context,
    api: bool = typer.Option(False, "--api", help="Also serve the HTTP API."),
    host: str = typer.Option("127.0.0.1", "--host", help="API bind address (with --api)."),
    port: int = typer.Option(8000, "--port", help="API port (with --api)."),
    threads: int = typer.Option(4, "--threads", min=1, max=64, help="Concurrent syncs."),
    lease_seconds: float = typer.Option(
        60.0,
        "--lease-seconds",
        min=1.0,
        help="Lease time: a dead worker's registries are taken over after this long.",
    ),
    checks: bool = typer.Option(
        True, "--checks/--no-checks", help="Run the checks after each round of syncs."
    ),
    partitioned: bool = typer.Option(
        False,
        "--partitioned-checks",
        help="PostgreSQL: share the checks with the other workers, partition by partition "
        "(docs/deploy.md).",
    ),
    webhook_seconds: float = typer.Option(
        WEBHOOK_INTERVAL_SECONDS,
        "--webhook-seconds",
        min=0.1,
        help="How often to deliver webhooks.",
    ),
) -> None:
    """Keep the index in step with every configured registry, on schedule, until stopped
    (SIGINT/SIGTERM)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from metareg import log
    from metareg.checks.runner import run_checks
    from metareg.sync.worker import Worker

    _log = log.get_logger("metareg.run")
    configs = configured_registries(ctx)
    engine = options(ctx).engine(create=True)
    after_round: Callable[[Engine], object] = run_checks
    if partitioned:
        if engine.dialect.name != "postgresql":
            raise fail(
                "--partitioned-checks needs PostgreSQL (SQLite has one writer: its checks "
                "run in one process, without the flag)"
            )
        from metareg.checks.partitions import run_partitions

        after_round = run_partitions
    worker = Worker(
        engine,
        configs,
        lease_ttl=timedelta(seconds=lease_seconds),
        threads=threads,
        after_round=after_round if checks else None,
    )
    scheduler = BackgroundScheduler(executors=Worker.executors(threads), timezone="UTC")
    worker.add_jobs(scheduler)
    _schedule_webhooks(ctx, engine, scheduler, webhook_seconds)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler.start()
    _log.info("worker started", holder=worker.holder, registries=worker.syncable())
    console.print(f"metareg run: {len(worker.syncable())} registries, worker {worker.holder}")
    try:
        if api:
            _serve_api(engine, options(ctx).config, host, port, stop)
        else:
            # Woken every half second: a signal the kernel hands to one of the worker's
            # other threads only marks Python's handler as due, and the handler runs in
            # this thread when it next runs Python, which a wait without end never does
            # (seen: a worker that ignored SIGTERM until killed, once in a dozen runs).
            while not stop.wait(_WAKE_SECONDS):
                pass
    finally:
        # Jobs already queued in the executor would otherwise each run a whole round
        # before shutdown returns: a stopping worker starts nothing new.
        worker.stop()
        scheduler.shutdown(wait=True)
        _log.info("worker stopped", holder=worker.holder)


_WAKE_SECONDS = 0.5  # how often `metareg run` looks whether it was told to stop


def _schedule_webhooks(
    ctx: typer.Context, engine: Engine, scheduler: BackgroundScheduler, seconds: float
) -> None:
    """Apply config/webhooks.toml, then deliver due webhook events every few seconds.

    The outbox is in the database, so a delivery pending when a worker stopped is sent
    by whichever worker runs next; a receiver sees each delivery id at least once.
    """
    from metareg.alerts.webhooks.delivery import deliver_due
    from metareg.alerts.webhooks.subscriptions import SubscriptionError, load_config, sync_config

    path = options(ctx).config / "webhooks.toml"
    try:
        configured = load_config(path)
    except SubscriptionError as error:
        raise fail(str(error)) from error
    with engine.begin() as connection:
        sync_config(connection, configured)
    scheduler.add_job(
        deliver_due,
        "interval",
        seconds=seconds,
        next_run_time=datetime.now(UTC),
        args=[engine],
        id="webhooks:deliver",
        name="deliver webhooks",
        max_instances=1,
        coalesce=True,
    )


def _serve_api(engine: Engine, config: Path, host: str, port: int, stop: threading.Event) -> None:
    import uvicorn

    from metareg.web.app import create_app
    from metareg.web.serving import uvicorn_config
    from metareg.web.settings import ApiSettings

    settings = ApiSettings(config=config)
    app = create_app(engine, settings=settings)
    server = uvicorn.Server(uvicorn_config(app, settings, host=host, port=port))

    def _watch() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=_watch, daemon=True).start()
    server.run()  # uvicorn handles SIGINT/SIGTERM itself; the scheduler stops after
