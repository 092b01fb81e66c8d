"""Full check: every DC rule over the loaded index (`run_checks(full=True)`).

Each run takes a fresh copy of the loaded index and times the first full check
(which opens every alert) and then a repeat (the steady state: the same conflicts,
nothing to write). The alerts found are compared with the conflicts the generator
planted, so a fast check that finds nothing would show.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bench.harness import Context, Result, engine_for, module_present, timed, unavailable
from bench.world import loaded_index, world

NAME = "full_check"
TITLE = "full check"
AS_OF = date(2026, 12, 31)  # fixed "now" for DC10/DC11, so results are reproducible
GOAL_SECONDS = 5.0
GOAL_SIZE = 1_000_000


def available() -> bool:
    return module_present("metareg.detection")


def full_check_seconds(ctx: Context, size: int, runs: int) -> tuple[list[float], list[float], Any]:
    """(first-check seconds, repeat-check seconds, last summary) over `runs` copies."""
    from metareg.checks.runner import run_checks

    base = loaded_index(ctx, size)
    first: list[float] = []
    repeat: list[float] = []
    summary: Any = None
    for _ in range(runs):
        url = ctx.copy_of(base, f"check-{size}")
        try:
            with engine_for(url) as engine:
                seconds, summary = timed(lambda: run_checks(engine, full=True, as_of=AS_OF))
                first.append(seconds)
                seconds, summary = timed(lambda: run_checks(engine, full=True, as_of=AS_OF))
                repeat.append(seconds)
        finally:
            ctx.drop(url)
    ctx.memo[("full_check", size)] = (first, repeat)
    return first, repeat, summary


def memo_or_measure(ctx: Context, size: int) -> tuple[list[float], list[float]]:
    if ("full_check", size) not in ctx.memo:
        full_check_seconds(ctx, size, ctx.runs)
    first, repeat = ctx.memo[("full_check", size)]
    return first, repeat


def run(ctx: Context) -> list[Result]:
    goal = f"<= {GOAL_SECONDS:g} s at 1M (SQLite, 2 cores)"
    if not available():
        return [unavailable(NAME, "full check", ctx.size, "metareg.detection", goal)]
    first, repeat, summary = full_check_seconds(ctx, ctx.size, ctx.runs)
    planted = dict(world(ctx, ctx.size).planted)
    found = dict(summary.open) if summary is not None else {}
    missing = sorted(rule for rule, count in planted.items() if count and not found.get(rule))
    cold = Result(NAME, "full check, first", "s", ctx.size, first, goal=goal)
    warm = Result(NAME, "full check, repeat", "s", ctx.size, repeat, goal=goal)
    cold.extra = {"planted": planted, "open_alerts": found}
    if missing:
        cold.note = f"planted but not found: {', '.join(missing)}"
    if ctx.size >= GOAL_SIZE and ctx.backend == "sqlite":
        for result in (cold, warm):
            result.met = (result.median or 0) <= GOAL_SECONDS
    return [cold, warm]
