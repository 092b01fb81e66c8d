"""Growth: the full checks and the ingest at N blocks against the same at N/10, in the
same run (100k -> 1M on SQLite; 1M -> 10M on PostgreSQL).

A sort-and-sweep check is n log n: ten times the blocks should cost a little over ten
times the time (issue 18: 11 or less from 100k to 1M, 12 from 1M to 10M); an
all-pairs check would cost a hundred times. Growth is the last figure of a run: it
takes the N side from the run's checks (measuring them if they were not chosen),
drops the N-block index, then loads and checks the N/10 world, so a 10M run never
holds both indexes on disk and both sides see the same machine. The ingest row needs
the ingest figure in the same run (it then ingests the N/10 world too); without it
both sides work on copies of indexes loaded once, and that row is not run.
"""

from __future__ import annotations

from typing import Any

from bench.figures import checks, ingest
from bench.harness import NOT_RUN, Context, Point, Row, Target, point, unavailable
from bench.world import ingested, release

NAME = "growth"
NEEDS = "checks"
FIRST = "full check first, N / (N/10)"
REPEAT = "full check repeat, N / (N/10)"
INGEST = "ingest time, N / (N/10)"
METRICS = (FIRST, REPEAT, INGEST)


def not_run(ctx: Context) -> str | None:
    return None


def small(ctx: Context) -> int:
    return max(ctx.size // 10, 10)


def measure(ctx: Context, target: Target, run: int) -> dict[str, tuple[Point, Point]]:
    loads, done = [], []
    for size in (ctx.size, small(ctx)):
        if ingest.NAME in ctx.figures:  # the index the checks then use
            loads.append(ingested(ctx, target, size, run))
        done.append(checks.checked(ctx, target, size, run))
        release(ctx, target, size, run)
    measured = {
        "first": (point(done[0], done[0]["first"]), point(done[1], done[1]["first"])),
        "repeat": (point(done[0], done[0]["repeat"]), point(done[1], done[1]["repeat"])),
    }
    if loads:
        big, little = (point(load, load["seconds"]) for load in loads)
        measured["ingest"] = (big, little)
    return measured


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    result = []
    for key, metric, what in (
        ("first", FIRST, "the first full check"),
        ("repeat", REPEAT, "the repeat full check"),
        ("ingest", INGEST, "metareg ingest"),
    ):
        if key not in runs[0]:
            continue
        row = Row(
            NAME,
            metric,
            "s",
            f"{what} at {small(ctx):,} blocks",
            "s",
            "N / (N/10)",
            target.label,
            ctx.size,
        )
        for run in runs:
            row.add(*run[key])
        result.append(row)
    if ingest.NAME not in ctx.figures:
        reason = "the ingest row is measured with the ingest figure (add --only ingest)"
        result.append(unavailable(NAME, INGEST, target.label, ctx.size, reason))
        result[-1].status = NOT_RUN
    return result
