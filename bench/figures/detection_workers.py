"""Detection workers: a full check partitioned over two worker processes, against the
same partitioned check in one process, on two copies of the run's loaded index
(issue 18: >= 1.6x faster on PostgreSQL). The two copies must end with exactly the same
open alerts; the row says whether they do.

Each process calls `metareg.checks.partitions.run_partitions(engine, as_of=...)`, which
takes partition leases until none is left (a revision without it reports the figure
"not available", `bench.adapter.PLACES["partitioned_check"]`). The two processes share
the machine's cores with the database server and anything else running: quote the
load average beside the ratio.
"""

from __future__ import annotations

from typing import Any

from bench.figures.checks import AS_OF
from bench.harness import Context, Point, Row, Target, job, together
from bench.world import loaded

NAME = "detection_workers"
NEEDS = "detection_workers"
WORKERS = 2
METRIC = f"partitioned full check over {WORKERS} processes, s"
METRICS = (METRIC,)


def not_run(ctx: Context) -> str | None:
    return None


def _check(ctx: Context, target: Target, url: str, count: int) -> tuple[Point, list[str]]:
    copy = ctx.copy_of(url, "detection")
    try:
        timed = together(
            target,
            lambda _: ("detection_worker", {"url": copy, "as_of": AS_OF}),
            count,
        )
        alerts: list[str] = job(target, "open_alerts", url=copy)["fingerprints"]
    finally:
        ctx.drop(copy)
    return timed, alerts


def measure(ctx: Context, target: Target, run: int) -> dict[str, Any]:
    url = loaded(ctx, target, ctx.size, run)
    one, alerts_one = _check(ctx, target, url, 1)
    many, alerts_many = _check(ctx, target, url, WORKERS)
    return {"one": one, "many": many, "same_alerts": alerts_one == alerts_many}


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    row = Row(
        NAME,
        METRIC,
        "s",
        "the same partitioned check in one process",
        "s",
        f"speed-up: 1 process / {WORKERS}",
        target.label,
        ctx.size,
        inverse=True,
    )
    for run in runs:
        row.add(run["many"], run["one"])
    same = all(run["same_alerts"] for run in runs)
    row.note = "same open alerts" if same else "THE WORKERS' OPEN ALERTS DIFFER FROM ONE PROCESS'"
    return [row]
