"""Ingest throughput: `metareg ingest` of the world's JSON Lines against a plain
driver `executemany` of the same rows into the same kind of database, in the same run.

Each run pairs the two on fresh databases, so the ratio is taken between runs that
saw the same machine load. The first ingested index is kept as the loaded index the
other figures copy.
"""

from __future__ import annotations

from bench.harness import Context, Result
from bench.workers import run_worker
from bench.world import adopt_base, manifest_path, world

NAME = "ingest"
TITLE = "ingest throughput"
GOAL_RATIO = 0.3


def run(ctx: Context) -> list[Result]:
    manifest = world(ctx, ctx.size)
    path = manifest_path(ctx, ctx.size)
    ours = Result(NAME, "metareg ingest", "records/s", ctx.size)
    plain = Result(NAME, "plain executemany", "records/s", ctx.size)
    ratio = Result(NAME, "ingest / plain", "ratio", ctx.size, goal=f">= {GOAL_RATIO} (SQLite)")
    rss = Result(NAME, "ingest peak RSS", "MB", ctx.size)
    for _ in range(ctx.runs):
        url = ctx.fresh_index("ingest")
        answer = run_worker("ingest", url, path)
        if not adopt_base(ctx, ctx.size, url):
            ctx.drop(url)
        baseline_url = ctx.fresh_index("plain")
        baseline = run_worker("plain_insert", baseline_url, path)
        ctx.drop(baseline_url)
        ours.values.append(answer["records"] / answer["seconds"])
        plain.values.append(baseline["records"] / baseline["seconds"])
        ratio.values.append(ours.values[-1] / plain.values[-1])
        rss.values.append(answer["peak_rss_mb"])
    ctx.memo[("ingest_rss", ctx.size)] = rss.values
    ctx.memo[("plain", ctx.size)] = plain.values
    ctx.memo[("records", ctx.size)] = manifest.total_records
    ours.extra = {"records": manifest.total_records, "planted": dict(manifest.planted)}
    if ctx.backend == "sqlite" and ratio.median is not None:
        ratio.met = ratio.median >= GOAL_RATIO
    return [ours, plain, ratio, rss]
