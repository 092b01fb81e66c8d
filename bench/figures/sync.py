"""Sync: the whole world synced from exchange servers over loopback, against the plain
executemany of the same rows (the ingest figure's baseline, same run).

Every registry of the world is served by the reference exchange registry
(`InMemoryFeedSource` behind `create_exchange_app`, of the same revision, in one
server process on 127.0.0.1); a child syncs each registry with the exchange
connector and the sync engine (checks off) into a fresh index.
"""

from __future__ import annotations

from typing import Any

from bench.figures import ingest
from bench.harness import Context, Point, Row, Target, job
from bench.serve import serving
from bench.world import manifest_path

NAME = "sync"
NEEDS = "sync"
SYNC = "sync over loopback, records/s"
METRICS = (SYNC,)
MAX_SIZE = 1_000_000


def not_run(ctx: Context) -> str | None:
    if ctx.size > MAX_SIZE:
        return (
            "the exchange server keeps the world in memory: sync is measured up to "
            f"{MAX_SIZE:,} blocks (issue 18 asks for it at 1M)"
        )
    return None


def measure(ctx: Context, target: Target, run: int) -> dict[str, Point]:
    baseline = ingest.plain(ctx, target, ctx.size, run)
    path = manifest_path(ctx, ctx.size)
    with serving(target, "exchange", path, "/ready") as base:
        url = ctx.fresh_url("sync")
        try:
            answer = job(target, "sync", url=url, manifest=path, base=base)
        finally:
            ctx.drop(url)
    return {"sync": ingest.rate(answer), "plain": baseline}


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    row = Row(
        NAME,
        SYNC,
        "records/s",
        ingest.BASELINE,
        "records/s",
        "metareg sync / plain",
        target.label,
        ctx.size,
    )
    for run in runs:
        row.add(run["sync"], run["plain"])
    return [row]
