"""`metareg demo`: the README's first command.

Until the simulator lands this loads the sample records of config/samples into a
fresh index and shows what it holds; it grows into the full live demo.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import func, select

from metareg.cli.context import console, fail, options
from metareg.db.tables import CURRENT_TABLES
from metareg.index.open import open_index
from metareg.ingest import ingest_files
from metareg.registries import load_registries, store_configured


def demo(
    ctx: typer.Context,
    directory: Path | None = typer.Option(
        None, "--dir", help="Where to create the demo index (default: a new temporary folder)."
    ),
) -> None:
    """Load the sample registry records into a fresh SQLite index and show it."""
    opts = options(ctx)
    samples = opts.config / "samples"
    files = sorted(samples.glob("*.jsonl"))
    if not files:
        raise fail(f"no sample records in {samples}")
    folder = directory or Path(tempfile.mkdtemp(prefix="metareg-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'metareg.db'}"
    engine = open_index(url)
    with engine.begin() as connection:
        store_configured(connection, load_registries(opts.config / "registries.toml"))
    for path in files:
        report = ingest_files(engine, [path], path.stem)
        counts = report.counts
        console.print(
            f"{path.name}: {counts.accepted} accepted, {counts.unchanged} unchanged, "
            f"{counts.quarantined} quarantined into registry {path.stem}"
        )
    table = Table("registry", "authorizations", "actions", "holdings", title=f"index at {url}")
    with engine.connect() as connection:
        per_type = {
            name: dict(
                connection.execute(
                    select(model.__table__.c.registry_id, func.count()).group_by(  # type: ignore[attr-defined]
                        model.__table__.c.registry_id  # type: ignore[attr-defined]
                    )
                ).all()
            )
            for name, model in CURRENT_TABLES.items()
        }
    registries = sorted({r for counts in per_type.values() for r in counts})
    for registry in registries:
        table.add_row(
            registry,
            *(str(per_type[t].get(registry, 0)) for t in ("authorization", "action", "holding")),
        )
    console.print(table)
    example = "CA0001-IDN01-IDN-25001-35000-2023"
    console.print(f"\nEverything the index knows about {example}:")
    from metareg.cli.show import show

    ctx.find_root().obj.db = url
    ctx.find_root().obj._engine = engine
    show(ctx, example, "table")
    console.print(
        f"\nTry: metareg --db {url} show CA0001-IDN01-IDN-100001-110000-2023 --format json"
    )
