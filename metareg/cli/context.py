"""Global options shared by every command (--db, --config, --log-json)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import Engine

from metareg import log
from metareg.index.open import open_index
from metareg.settings import config_dir, database_url, redact_url

console = Console()
errors = Console(stderr=True, soft_wrap=True)


@dataclass
class Options:
    db: str
    config: Path
    json_logs: bool
    _engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_index(self.db)
            log.get_logger("metareg").debug("index opened", db=redact_url(self.db))
        return self._engine


def main_callback(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default: $METAREG_DATABASE_URL or sqlite:///metareg.db)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="Configuration folder (default: $METAREG_CONFIG_DIR or ./config)."
    ),
    log_json: bool = typer.Option(False, "--log-json", help="Log JSON lines (for production)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug events."),
) -> None:
    log.configure(json_logs=log_json, level="DEBUG" if verbose else "INFO")
    ctx.obj = Options(db=database_url(db), config=config_dir(config), json_logs=log_json)


def options(ctx: typer.Context) -> Options:
    found: Options = ctx.find_root().obj
    return found


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)
