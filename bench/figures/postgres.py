"""PostgreSQL: the ingest and full-check figures again on the local PostgreSQL.

When the run's own --db is PostgreSQL, the other figures already ran there and this
one adds nothing. The 10M full check is this figure at --size 10000000 (see
docs/benchmarks.md for the command).
"""

from __future__ import annotations

import os
from dataclasses import replace

from sqlalchemy import text

from bench.figures import full_check, ingest
from bench.harness import SKIPPED, Context, Result, engine_for

NAME = "postgres"
TITLE = "PostgreSQL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
GOAL_10M_SECONDS = 60.0


def server_url() -> str:
    return os.environ.get("METAREG_BENCH_POSTGRES_URL", DEFAULT_URL)


def _reachable(url: str) -> str | None:
    try:
        with engine_for(url) as engine, engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


def run(ctx: Context) -> list[Result]:
    if ctx.backend == "postgresql":
        return [
            Result(
                NAME,
                "(this run is on PostgreSQL)",
                "",
                ctx.size,
                status=SKIPPED,
                note="every other figure of this run is the PostgreSQL figure",
            )
        ]
    url = server_url()
    problem = _reachable(url)
    if problem:
        return [Result(NAME, "PostgreSQL", "", ctx.size, status=SKIPPED, note=problem)]
    pg = replace(ctx, db=url, _bases={}, memo={})
    try:
        results = ingest.run(pg) + full_check.run(pg)
    finally:
        pg.drop_all()
    for result in results:
        result.figure = f"{NAME}:{result.figure}"
        result.met = None
    if ctx.size >= 10_000_000:
        for result in results:
            if result.metric.startswith("full check"):
                result.goal = f"<= {GOAL_10M_SECONDS:g} s at 10M"
                result.met = (result.median or 0) <= GOAL_10M_SECONDS
    return results
