"""Programmes (issue 15): the DC15/DC16 pass over N ITMO blocks resting on programme
units against R programme unit ranges (`--programme-ranges`, 5N unless given), beside
the DC03 pass over the same index, and its growth from (N/10, R/10) to (N, R) in the
same run, beside n log n.

Each side is a fresh index (`bench.jobs.programmes`), planted in bulk as an ingest of
its files would write it: N issuances resting on Verra serial blocks, 100 to a batch,
and R statuses cut from their units (issued, retired for Article 6, and on every 50th
and 70th block a voluntary retirement or a not-authorized label, which the job checks
the pass finds exactly). The issue's goals: the pass grows no worse than n log n
(n = blocks + ranges; measured (500k, 5M) against (50k, 500k)) and costs no more than
the DC03 pass at the same size (1M blocks, 5M ranges).
"""

from __future__ import annotations

import math
from typing import Any

from bench.harness import Context, Point, Row, Target, job, point

NAME = "programmes"
NEEDS = "programmes"
COST = "DC15/DC16 pass, N blocks / R ranges"
GROWTH = "DC15/DC16 pass, (N, R) / (N/10, R/10)"
GROWTH_NLOGN = "DC15/DC16 pass per n log n, (N, R) / (N/10, R/10)"
METRICS = (COST, GROWTH, GROWTH_NLOGN)


def not_run(ctx: Context) -> str | None:
    return None


def sizes(ctx: Context) -> tuple[tuple[int, int], tuple[int, int]]:
    """(blocks, ranges) of the big side and of the growth side."""
    ranges = ctx.programme_ranges or 5 * ctx.size
    return (ctx.size, ranges), (max(ctx.size // 10, 10), max(ranges // 10, 10))


def n_log_n(blocks: int, ranges: int) -> float:
    n = blocks + ranges
    return n * math.log(n)


def measure(ctx: Context, target: Target, run: int) -> dict[str, Any]:
    answers = {}
    for label, (blocks, ranges) in zip(("big", "small"), sizes(ctx), strict=True):
        url = ctx.fresh_url(f"programmes-{label}")
        try:
            answers[label] = job(target, "programmes", url=url, blocks=blocks, ranges=ranges)
        finally:
            ctx.drop(url)
    big, little = answers["big"], answers["small"]
    per = {
        side: point(answer, answer["programme_pass"] / n_log_n(answer["blocks"], answer["ranges"]))
        for side, answer in answers.items()
    }
    measured: dict[str, tuple[Point, Point]] = {
        "cost": (
            point(big, big["programme_pass"], planting_s=big["planting"]),
            point(big, big["units_pass"]),
        ),
        "growth": (
            point(big, big["programme_pass"]),
            point(little, little["programme_pass"], planting_s=little["planting"]),
        ),
        "per_n_log_n": (per["big"], per["small"]),
    }
    return measured


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    (blocks, ranges), (few, fewer) = sizes(ctx)
    cost = Row(
        NAME,
        COST,
        "s",
        f"the DC03 pass over the same index ({blocks:,} blocks, {ranges:,} ranges)",
        "s",
        "DC15/DC16 / DC03",
        target.label,
        ctx.size,
    )
    growth = Row(
        NAME,
        GROWTH,
        "s",
        f"the same pass at {few:,} blocks / {fewer:,} ranges "
        f"(n log n grows {n_log_n(blocks, ranges) / n_log_n(few, fewer):.2f}x)",
        "s",
        "(N, R) / (N/10, R/10)",
        target.label,
        ctx.size,
    )
    per = Row(
        NAME,
        GROWTH_NLOGN,
        "s",
        f"the same at {few:,} blocks / {fewer:,} ranges (n = blocks + ranges; "
        "at most 1 is no worse than n log n)",
        "s",
        "growth / n log n growth",
        target.label,
        ctx.size,
    )
    for run in runs:
        cost.add(*run["cost"])
        growth.add(*run["growth"])
        per.add(*run["per_n_log_n"])
    return [cost, growth, per]
