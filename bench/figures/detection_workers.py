"""Detection workers: a full check partitioned over two worker processes, against the
same partitioned check in one process, on two copies of the run's loaded index
(issue 18: >= 1.6x faster on PostgreSQL). The two copies must end with exactly the same
open alerts; the row says whether they do.

Then, in the two-worker copy, the run's 1,000 new records (the checks figure's
increment) are ingested and the two workers check again: each due partition continues
from its last check (`checks.partitions`: incremental per partition). That time stands
beside the two workers' full check (a revision whose partitions are judged whole each
time shows a ratio near 1). Its open alerts must equal a full single-process check's
after the same increment.

Each process calls `metareg.checks.partitions.run_partitions(engine, as_of=...)`, which
takes partition leases until none is left (a revision without it reports the figure
"not available", `bench.adapter.PLACES["partitioned_check"]`). The two processes share
the machine's cores with the database server and anything else running: quote the
load average beside the ratio. The row also says how many cores the machine kept busy
with one process and with the workers, and the busy CPU-seconds of each
(`harness.cores_note`): a speed-up is the cores gained times the work saved, and on
two cores the one process already keeps about one and a half busy (its screen reads
through two database connections at once).
"""

from __future__ import annotations

from typing import Any

from bench.figures.checks import AS_OF
from bench.harness import Context, Point, Row, Target, cores_note, job, together
from bench.world import increment_path, loaded

NAME = "detection_workers"
NEEDS = "detection_workers"
WORKERS = 2
METRIC = f"partitioned full check over {WORKERS} processes, s"
INCREMENTAL = f"partitioned check after +1,000 records over {WORKERS} processes, s"
METRICS = (METRIC, INCREMENTAL)


def not_run(ctx: Context) -> str | None:
    return None


def _partitioned(target: Target, url: str, count: int) -> Point:
    return together(target, lambda _: ("detection_worker", {"url": url, "as_of": AS_OF}), count)


def _check(
    ctx: Context, target: Target, url: str, count: int, increment: str | None = None
) -> tuple[Point, list[str], dict[str, Any]]:
    copy = ctx.copy_of(url, "detection")
    after: dict[str, Any] = {}
    try:
        timed = _partitioned(target, copy, count)
        alerts: list[str] = job(target, "open_alerts", url=copy)["fingerprints"]
        if increment is not None:
            job(target, "ingest", url=copy, manifest=increment)
            after["incremental"] = _partitioned(target, copy, count)
            after["alerts"] = job(target, "open_alerts", url=copy)["fingerprints"]
            job(target, "checks_full", url=copy, as_of=AS_OF)
            after["full_alerts"] = job(target, "open_alerts", url=copy)["fingerprints"]
    finally:
        ctx.drop(copy)
    return timed, alerts, after


def measure(ctx: Context, target: Target, run: int) -> dict[str, Any]:
    url = loaded(ctx, target, ctx.size, run)
    one, alerts_one, _ = _check(ctx, target, url, 1)
    increment = increment_path(ctx, ctx.size, run)
    many, alerts_many, after = _check(ctx, target, url, WORKERS, increment)
    return {
        "one": one,
        "many": many,
        "same_alerts": alerts_one == alerts_many,
        "incremental": after["incremental"],
        "incremental_same_alerts": after["alerts"] == after["full_alerts"],
    }


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
    if cores := cores_note(row.runs, WORKERS):
        row.note += f"; {cores}"
    continued = Row(
        NAME,
        INCREMENTAL,
        "s",
        f"the partitioned full check over {WORKERS} processes",
        "s",
        "incremental / full",
        target.label,
        ctx.size,
    )
    for run in runs:
        continued.add(run["incremental"], run["many"])
    same = all(run["incremental_same_alerts"] for run in runs)
    continued.note = (
        "same open alerts as a full check"
        if same
        else "THE INCREMENTAL PARTITIONS' OPEN ALERTS DIFFER FROM A FULL CHECK'S"
    )
    return [row, continued]
