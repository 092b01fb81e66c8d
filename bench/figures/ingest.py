"""Ingest: `metareg ingest` of the world's JSON Lines, against a plain driver
`executemany` of the same rows into the same kind of database, in the same run.

Each run measures the baseline first (its database dropped at once), then loads the
run's index with `metareg ingest`: that index is what the run's other figures use.
"""

from __future__ import annotations

from typing import Any

from bench.harness import Context, Point, Row, Target, job, point
from bench.world import ingested, manifest_path

NAME = "ingest"
NEEDS = "ingest"
INGEST = "metareg ingest, records/s"
METRICS = (INGEST,)
BASELINE = "plain executemany of the same rows (driver only: no validation, history, upsert)"


def not_run(ctx: Context) -> str | None:
    return None


def rate(answer: dict[str, Any]) -> Point:
    return point(
        answer,
        answer["records"] / answer["seconds"],
        seconds=answer["seconds"],
        records=answer["records"],
        peak_rss_mb=answer["peak_rss_mb"],
    )


def plain(ctx: Context, target: Target, size: int, run: int) -> Point:
    """The baseline of ingest and sync: plain executemany into the target's schema."""

    def make() -> Point:
        url = ctx.fresh_url("plain")
        try:
            return rate(job(target, "plain", url=url, manifest=manifest_path(ctx, size)))
        finally:
            ctx.drop(url)

    measured: Point = ctx.remember(("plain", target.label, size, run), make)
    return measured


def measure(ctx: Context, target: Target, run: int) -> dict[str, Point]:
    baseline = plain(ctx, target, ctx.size, run)
    return {"ingest": rate(ingested(ctx, target, ctx.size, run)), "plain": baseline}


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    row = Row(
        NAME, INGEST, "records/s", BASELINE, "records/s", "metareg / plain", target.label, ctx.size
    )
    for run in runs:
        row.add(run["ingest"], run["plain"])
    return [row]
