"""Incremental check: after 1,000 new records on the loaded index.

On a copy of the loaded index: a full check sets the watermark, then each run
ingests 1,000 new records (half new issuances, half transfers into existing ranges)
and times `run_checks(engine)` (incremental: only what changed since the watermark).
"""

from __future__ import annotations

from pathlib import Path

from bench.figures import full_check
from bench.generator import increment
from bench.harness import Context, Result, engine_for, timed, unavailable
from bench.world import loaded_index
from metareg.sync.ingest import ingest_files

NAME = "incremental"
TITLE = "incremental check"
NEW_RECORDS = 1_000
GOAL_SECONDS = 0.5


def run(ctx: Context) -> list[Result]:
    goal = f"<= {GOAL_SECONDS:g} s on a 1M-block index"
    if not full_check.available():
        return [unavailable(NAME, "incremental check", ctx.size, "metareg.detection", goal)]
    from metareg.checks.runner import run_checks

    result = Result(NAME, f"check after {NEW_RECORDS} new records", "s", ctx.size, goal=goal)
    url = ctx.copy_of(loaded_index(ctx, ctx.size), "incremental")
    try:
        with engine_for(url) as engine:
            run_checks(engine, full=True, as_of=full_check.AS_OF)
            for run_number in range(ctx.runs):
                folder = ctx.workdir / f"increment-{ctx.size}-{run_number}"
                added = increment(folder, ctx.size, NEW_RECORDS, f"r{run_number}", ctx.seed)
                for registry, path in added.files.items():
                    ingest_files(engine, [Path(path)], registry)
                seconds, summary = timed(lambda: run_checks(engine, as_of=full_check.AS_OF))
                result.values.append(seconds)
                result.extra["full"] = summary.full
                if summary.full:
                    result.note = "the check chose a full pass (not incremental)"
    finally:
        ctx.drop(url)
    if ctx.size >= full_check.GOAL_SIZE and result.median is not None:
        result.met = result.median <= GOAL_SECONDS
    return [result]
