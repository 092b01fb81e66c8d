"""Growth: full-check time at N divided by the time at N/10.

A sort-and-sweep check is n log n: ten times the blocks should cost a little over
ten times the time (goal: 11 or less from 100k to 1M). An all-pairs check would
cost a hundred times.
"""

from __future__ import annotations

from bench.figures import full_check
from bench.harness import Context, Result, unavailable

NAME = "growth"
TITLE = "growth"
GOAL = 11.0


def run(ctx: Context) -> list[Result]:
    small = max(ctx.size // 10, 1)
    goal = f"<= {GOAL:g} (1M / 100k)"
    if not full_check.available():
        return [unavailable(NAME, f"full check {ctx.size} / {small}", ctx.size, "detection", goal)]
    big_first, big_repeat = full_check.memo_or_measure(ctx, ctx.size)
    small_first, small_repeat = full_check.memo_or_measure(ctx, small)
    results = []
    for label, big, little in (
        ("first", big_first, small_first),
        ("repeat", big_repeat, small_repeat),
    ):
        # Pair run i at N with run i at N/10 (same order, similar machine load).
        ratios = [b / s for b, s in zip(big, little, strict=False) if s > 0]
        result = Result(NAME, f"full check {label}: N / (N/10)", "ratio", ctx.size, ratios)
        result.goal = goal
        result.extra = {"seconds_at_n": big, "seconds_at_n_over_10": little, "small": small}
        if ctx.size >= full_check.GOAL_SIZE and result.median is not None:
            result.met = result.median <= GOAL
        results.append(result)
    return results
