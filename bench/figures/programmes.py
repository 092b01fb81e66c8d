"""Programmes (issue 15): the DC15/DC16 pass over N ITMO blocks resting on programme
units against R programme unit ranges (`--programme-ranges`, 5N unless given), beside
the DC03 pass over the same index, and its growth from (N/10, R/10) to (N, R) in the
same run, beside n log n.

Each side is a fresh index (`bench.jobs.programmes`), planted in bulk as an ingest of
its files would write it: N issuances resting on Verra serial blocks, 100 to a batch,
and R statuses cut from their units (issued, retired for Article 6, and on every 50th
and 70th block a voluntary retirement or a not-authorized label, which the job checks
the pass finds exactly). Each pass is timed on a new connection (SQLite's page cache
empty, as any write by another connection leaves it; the file in the operating
system's cache), and, for context, again on one warm connection. The issue's goals:
the pass grows no worse than n log n (n = blocks + ranges; measured (500k, 5M) against
(50k, 500k)) and costs no more than the DC03 pass at the same size (1M blocks, 5M
ranges).
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
COST_WARM = "DC15/DC16 pass, warm page cache, N blocks / R ranges"
GROWTH_NLOGN_WARM = "DC15/DC16 pass per n log n, warm page cache, (N, R) / (N/10, R/10)"
METRICS = (COST, GROWTH, GROWTH_NLOGN, COST_WARM, GROWTH_NLOGN_WARM)


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
    if "programme_pass_warm" in big and "programme_pass_warm" in little:
        warm = {
            side: point(
                answer,
                answer["programme_pass_warm"] / n_log_n(answer["blocks"], answer["ranges"]),
            )
            for side, answer in answers.items()
        }
        measured["cost_warm"] = (
            point(big, big["programme_pass_warm"]),
            point(big, big["units_pass_warm"]),
        )
        measured["per_n_log_n_warm"] = (warm["big"], warm["small"])
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
    cost_warm = Row(
        NAME,
        COST_WARM,
        "s",
        "the DC03 pass over the same index, on the same warm connection",
        "s",
        "DC15/DC16 / DC03",
        target.label,
        ctx.size,
    )
    per_warm = Row(
        NAME,
        GROWTH_NLOGN_WARM,
        "s",
        f"the same at {few:,} blocks / {fewer:,} ranges, each side on one warm connection "
        "(context: the small side's pages fit SQLite's page cache, the big side's do not)",
        "s",
        "growth / n log n growth",
        target.label,
        ctx.size,
    )
    for run in runs:
        cost.add(*run["cost"])
        growth.add(*run["growth"])
        per.add(*run["per_n_log_n"])
        if "cost_warm" in run:
            cost_warm.add(*run["cost_warm"])
            per_warm.add(*run["per_n_log_n_warm"])
    return [row for row in (cost, growth, per, cost_warm, per_warm) if row.runs]
