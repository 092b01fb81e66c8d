"""Sync workers: three `metareg run`-style worker processes sharing the 30 registries of
a world through metareg's sync leases, against one worker syncing them all, in the
same run (issue 18: >= 1.5x the records/s on PostgreSQL).

The world is the generator's wide one (the same chains over 15 seller and 15 buyer
Parties, 30 registries), capped at `MAX_SIZE` blocks: the ratio is about sharing
registries, and the exchange server holds the world in memory. Each worker claims the
next registry no other has claimed and syncs it under metareg's sync lease (see
`bench.jobs.sync_worker`). Each worker's set-up (imports, engine, registry
configuration) happens before a barrier; the time is from the first worker's start to
the last one's end; records/s counts what they received, which must be the world. The
row also says how many cores the machine kept busy with one worker and with three, and
the busy CPU-seconds of each (`harness.cores_note`).
"""

from __future__ import annotations

import tempfile
from typing import Any

from bench.harness import Context, Point, Row, Target, cores_note, job, together
from bench.serve import serving
from bench.world import manifest_path, world

NAME = "sync_workers"
NEEDS = "sync_workers"
WORKERS = 3
METRIC = f"{WORKERS} sync workers, records/s"
METRICS = (METRIC,)
MAX_SIZE = 100_000


def not_run(ctx: Context) -> str | None:
    return None


def size(ctx: Context) -> int:
    return min(ctx.size, MAX_SIZE)


def _workers(ctx: Context, target: Target, manifest: str, base: str, count: int) -> Point:
    url = ctx.fresh_url("workers")
    try:
        job(target, "migrate", url=url)
        with tempfile.TemporaryDirectory(dir=ctx.workdir) as claims:
            timed = together(
                target,
                lambda index: (
                    "sync_worker",
                    {
                        "url": url,
                        "manifest": manifest,
                        "base": base,
                        "index": index,
                        "claims": claims,
                    },
                ),
                count,
            )
    finally:
        ctx.drop(url)
    records = sum(a["records"] for a in timed.extra["answers"])
    timed.extra.update(seconds=timed.value, records=records)
    timed.value = records / timed.value
    return timed


def measure(ctx: Context, target: Target, run: int) -> dict[str, Point]:
    manifest = manifest_path(ctx, size(ctx), wide=True)
    with serving(target, "exchange", manifest, "/ready") as base:
        one = _workers(ctx, target, manifest, base, 1)
        many = _workers(ctx, target, manifest, base, WORKERS)
    return {"one": one, "many": many}


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    row = Row(
        NAME,
        METRIC,
        "records/s",
        "one worker syncing every registry",
        "records/s",
        f"{WORKERS} workers / 1",
        target.label,
        size(ctx),
    )
    for run in runs:
        row.add(run["many"], run["one"])
    expected = world(ctx, size(ctx), wide=True).total_records
    wrong = {p.extra["records"] for run in runs for p in (run["one"], run["many"])} - {expected}
    row.note = f"30 registries, {expected:,} records"
    if cores := cores_note(row.runs, WORKERS):
        row.note += f"; {cores}"
    if wrong:
        row.note += f"; WORKERS RECEIVED {sorted(wrong)} records, not {expected:,}"
    return [row]
