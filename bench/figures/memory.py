"""Memory: peak RSS of loading the world, by `metareg ingest` and by a sync.

Each load runs in its own child process, whose peak RSS the kernel reports on exit
(wait4). The goal is for a sync of 1M records; ingest streams the same way.
"""

from __future__ import annotations

from bench.figures import sync
from bench.harness import Context, Result
from bench.workers import run_worker
from bench.world import manifest_path

NAME = "memory"
TITLE = "memory"
GOAL_MB = 300.0
GOAL_RECORDS = 1_000_000


def run(ctx: Context) -> list[Result]:
    results: list[Result] = []
    ingest_rss = ctx.memo.get(("ingest_rss", ctx.size))
    if ingest_rss is None:
        url = ctx.fresh_index("memory")
        try:
            ingest_rss = [run_worker("ingest", url, manifest_path(ctx, ctx.size))["peak_rss_mb"]]
        finally:
            ctx.drop(url)
    records = ctx.memo.get(("records", ctx.size), 0)
    goal = f"<= {GOAL_MB:g} MB for 1M records"
    ingest = Result(NAME, "peak RSS, metareg ingest", "MB", ctx.size, list(ingest_rss), goal=goal)
    ingest.extra["records"] = records
    if records >= GOAL_RECORDS:
        ingest.met = (ingest.median or 0) <= GOAL_MB
    results.append(ingest)
    results.extend(sync.memory_results(ctx, goal))
    return results
