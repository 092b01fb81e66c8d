"""Programmes (issue 15): the DC15/DC16 pass over N ITMO blocks resting on programme
units against 5N programme unit ranges, beside the DC03 pass over the same index, and
its growth from N/10 to N in the same run.

Each side is a fresh index (`bench.jobs.programmes`): N issuances resting on Verra
serial blocks, 100 to a batch, and five statuses per block (issued, retired for
Article 6, and on every 50th and 70th block a voluntary retirement or a
not-authorized label, which the job checks the pass finds exactly). The issue's goals:
the pass grows no worse than n log n (at most ~11x for 10x the blocks) and costs no
more than the DC03 pass at the same size.
"""

from __future__ import annotations

from typing import Any

from bench.harness import Context, Point, Row, Target, job, point

NAME = "programmes"
NEEDS = "programmes"
COST = "DC15/DC16 pass, N blocks / 5N ranges"
GROWTH = "DC15/DC16 pass, N / (N/10)"
METRICS = (COST, GROWTH)


def not_run(ctx: Context) -> str | None:
    return None


def small(ctx: Context) -> int:
    return max(ctx.size // 10, 10)


def measure(ctx: Context, target: Target, run: int) -> dict[str, Any]:
    answers = {}
    for label, size in (("big", ctx.size), ("small", small(ctx))):
        url = ctx.fresh_url(f"programmes-{label}")
        try:
            answers[label] = job(target, "programmes", url=url, blocks=size)
        finally:
            ctx.drop(url)
    big, little = answers["big"], answers["small"]
    measured: dict[str, tuple[Point, Point]] = {
        "cost": (point(big, big["programme_pass"]), point(big, big["units_pass"])),
        "growth": (point(big, big["programme_pass"]), point(little, little["programme_pass"])),
    }
    return measured


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    cost = Row(
        NAME,
        COST,
        "s",
        "the DC03 pass over the same index",
        "s",
        "DC15/DC16 / DC03",
        target.label,
        ctx.size,
    )
    growth = Row(
        NAME,
        GROWTH,
        "s",
        f"the same pass at {small(ctx):,} blocks / {5 * small(ctx):,} ranges",
        "s",
        "N / (N/10)",
        target.label,
        ctx.size,
    )
    for run in runs:
        cost.add(*run["cost"])
        growth.add(*run["growth"])
    return [cost, growth]
