"""Global options shared by every command (--db, --config, --log-json).

Kept light: `metareg --help` and every command's help import neither SQLAlchemy nor
the web stack (tests/cli/test_startup.py); the index is opened on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from metareg.settings import config_dir, database_url

if TYPE_CHECKING:
    from sqlalchemy import Engine

console = Console()
errors = Console(stderr=True, soft_wrap=True)

URL_EXAMPLES = "e.g. sqlite:///metareg.db or postgresql://user@host/metareg"


@dataclass
class Options:
    db: str
    config: Path
    json_logs: bool
    _engine: Engine | None = None

    def engine(self, create: bool = False) -> Engine:
        """The index, migrated on open. A command that only reads (`create=False`)
        never creates one: an SQLite file that does not exist is an error naming it."""
        if self._engine is None:
            self._engine = open_or_fail(self.db, create=create)
        return self._engine


def open_or_fail(url: str, create: bool, upgrade: bool = True) -> Engine:
    """`open_index(url)`, every way it can fail said in one line (exit 2)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

    from metareg import log
    from metareg.settings import redact_url

    shown = redact_url(url)
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except NoSuchModuleError:  # (a kind of ArgumentError)
        raise fail(
            f"--db {shown}: unknown database kind {parsed.drivername!r}; "
            f"metareg uses SQLite or PostgreSQL ({URL_EXAMPLES})"
        ) from None
    except ArgumentError:
        raise fail(f"--db {shown!r} is not a database URL ({URL_EXAMPLES})") from None
    except ImportError as error:  # the dialect is known, its driver is not installed
        raise fail(
            f"--db {shown}: the driver for {parsed.drivername!r} is not installed ({error})"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise fail(
            f"--db {shown}: metareg keeps its index in SQLite or PostgreSQL, "
            f"not {parsed.get_backend_name()} ({URL_EXAMPLES})"
        )
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            if not create and not path.is_file():
                raise fail(
                    f"no index at {path.resolve()} (--db {shown}): this command only reads; "
                    "give the --db of an existing index (the demo prints its own), "
                    "or create one with `metareg db upgrade`"
                )
            if create and not path.parent.is_dir():
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    raise fail(f"cannot create the index at {path}: {error.strerror}") from None
    from metareg.index.open import open_index

    try:
        engine = open_index(url, upgrade=upgrade)
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise fail(f"cannot open the index at {shown}: {reason}") from None
    except SQLAlchemyError as error:
        raise fail(f"cannot open the index at {shown}: {error}") from None
    except ImportError as error:  # the database driver is not installed
        raise fail(f"cannot open the index at {shown}: {error}") from None
    if log.enabled("debug"):  # (structlog is loaded only to log)
        log.get_logger("metareg").debug("index opened", db=shown)
    return engine


def main_callback(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        help="Database URL (default: $METAREG_DATABASE_URL or sqlite:///metareg.db).",
        show_default=False,
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Configuration folder (default: $METAREG_CONFIG_DIR, ./config, "
        "or the one shipped with metareg).",
        show_default=False,
    ),
    log_json: bool = typer.Option(False, "--log-json", help="Log JSON lines (for production)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug events."),
) -> None:
    if ctx.resilient_parsing:
        return
    from metareg import log

    log.configure(json_logs=log_json, level="DEBUG" if verbose else "INFO")
    ctx.obj = Options(db=database_url(db), config=config_dir(config), json_logs=log_json)


def options(ctx: typer.Context) -> Options:
    found: Options = ctx.find_root().obj
    return found


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def check_format(output: str) -> None:
    """The `--format` every listing command takes: `table` or `json`."""
    if output not in ("table", "json"):
        raise fail(f"--format must be table or json, not {output!r}")


def echo_json(value: object) -> None:
    import json

    typer.echo(json.dumps(value, indent=2, default=str))
