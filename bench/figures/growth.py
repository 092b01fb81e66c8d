"""Growth: the full checks and the ingest at N blocks against the same at N/10, in the
same run (100k -> 1M on SQLite; 1M -> 10M on PostgreSQL).

A sort-and-sweep check is n log n: ten times the blocks should cost a little over ten
times the time (issue 18: 11 or less from 100k to 1M, 12 from 1M to 10M); an
all-pairs check would cost a hundred times. Each run loads the N/10 world too, right
after the N world's figures, so both see the same machine.
"""

from __future__ import annotations

from typing import Any

from bench.figures import checks
from bench.harness import Context, Point, Row, Target, point
from bench.world import ingested

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
    sizes = (ctx.size, small(ctx))
    loads = [ingested(ctx, target, size, run) for size in sizes]  # then the checks use them
    done = [checks.checked(ctx, target, size, run) for size in sizes]
    return {
        "first": (point(done[0], done[0]["first"]), point(done[1], done[1]["first"])),
        "repeat": (point(done[0], done[0]["repeat"]), point(done[1], done[1]["repeat"])),
        "ingest": (point(loads[0], loads[0]["seconds"]), point(loads[1], loads[1]["seconds"])),
    }


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    result = []
    for key, metric, what in (
        ("first", FIRST, "the first full check"),
        ("repeat", REPEAT, "the repeat full check"),
        ("ingest", INGEST, "metareg ingest"),
    ):
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
    return result
