"""Sync throughput: the whole world synced from exchange servers over loopback.

Every registry of the generated world is served by the reference exchange registry
(`InMemoryFeedSource` behind `create_exchange_app`, one server process on
127.0.0.1); a child process syncs each one with the exchange connector and the sync
engine (checks off), and its peak RSS is the memory figure of a sync. The ratio is
against the plain executemany of the same rows measured by the ingest figure.
"""

from __future__ import annotations

from bench.harness import Context, Result, module_present, unavailable
from bench.serve import serving
from bench.workers import run_worker
from bench.world import manifest_path, world

NAME = "sync"
TITLE = "sync throughput"
MODULES = ("metareg.sync.engine", "metareg.exchange.server", "metareg.connectors.exchange")


def _missing() -> str | None:
    missing = [m for m in MODULES if not module_present(m)]
    return ", ".join(missing) or None


def measure(ctx: Context) -> None:
    if ("sync", ctx.size) in ctx.memo:
        return
    world(ctx, ctx.size)
    path = manifest_path(ctx, ctx.size)
    rates, rss = [], []
    with serving("exchange", str(path), "/ready") as base:
        for _ in range(ctx.runs):
            url = ctx.fresh_index("sync")
            try:
                answer = run_worker("sync", url, path, base)
            finally:
                ctx.drop(url)
            rates.append(answer["records"] / answer["seconds"])
            rss.append(answer["peak_rss_mb"])
    ctx.memo[("sync", ctx.size)] = (rates, rss)


def run(ctx: Context) -> list[Result]:
    missing = _missing()
    if missing:
        return [unavailable(NAME, "sync over loopback", ctx.size, missing)]
    measure(ctx)
    rates, _ = ctx.memo[("sync", ctx.size)]
    result = Result(NAME, "sync over loopback", "records/s", ctx.size, rates)
    results = [result]
    plain = ctx.memo.get(("plain", ctx.size))
    if plain:
        ratio = Result(NAME, "sync / plain", "ratio", ctx.size, goal=">= 0.3 (SQLite)")
        ratio.values = [r / p for r, p in zip(rates, plain, strict=False)]
        ratio.note = "plain executemany from the ingest figure of this run"
        if ctx.backend == "sqlite" and ratio.median is not None:
            ratio.met = ratio.median >= 0.3
        results.append(ratio)
    return results


def memory_results(ctx: Context, goal: str) -> list[Result]:
    missing = _missing()
    if missing:
        return [unavailable("memory", "peak RSS, sync", ctx.size, missing, goal)]
    measure(ctx)
    _, rss = ctx.memo[("sync", ctx.size)]
    result = Result("memory", "peak RSS, sync", "MB", ctx.size, rss, goal=goal)
    records = ctx.memo.get(("records", ctx.size)) or world(ctx, ctx.size).total_records
    if records >= 1_000_000:
        result.met = (result.median or 0) <= 300
    return [result]
