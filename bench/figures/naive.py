"""Naive baseline: the all-pairs self-join overlap query, against our full check.

This is how a peer's conflict finder works: join the block table with itself on
cooperative approach and registry and keep the pairs whose ranges intersect. With
the (ca, registry, first_id) index the database can bound `b.first_id <= a.last_id`
but not the other side, so it still compares every pair within a (ca, registry):
quadratic. It runs over the current actions (most of the blocks); our full check
does more work (holdings and every rule), so the comparison is conservative.
A query that passes the time limit is stopped and reported as a lower bound.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from bench.figures import full_check
from bench.harness import Context, Result, engine_for
from bench.world import loaded_index

NAME = "naive"
TITLE = "naive baseline"
GOAL = 100.0
GOAL_SIZE = 100_000
TIME_LIMIT_S = 600.0

SELF_JOIN = """
SELECT count(*) FROM actions a JOIN actions b
  ON a.cooperative_approach_id = b.cooperative_approach_id
 AND a.party_registry_id = b.party_registry_id
 AND a.id < b.id
 AND a.first_id <= b.last_id AND b.first_id <= a.last_id
"""


def self_join_seconds(url: str, limit: float) -> tuple[float, int | None]:
    """(seconds, overlapping pairs), or (limit, None) when stopped at the limit."""
    with engine_for(url) as engine, engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET statement_timeout = {int(limit * 1000)}")
            timer = None
        else:
            raw = connection.connection.dbapi_connection
            timer = threading.Timer(limit, raw.interrupt)  # type: ignore[union-attr]
            timer.start()
        start = time.perf_counter()
        try:
            pairs = connection.execute(text(SELF_JOIN)).scalar()
        except Exception as error:  # interrupted / statement timeout
            if time.perf_counter() - start < limit * 0.95:
                raise
            del error
            return limit, None
        finally:
            if timer is not None:
                timer.cancel()
        return time.perf_counter() - start, int(pairs or 0)


def run(ctx: Context) -> list[Result]:
    top = min(ctx.size, GOAL_SIZE)
    results: list[Result] = []
    for size in (max(top // 10, 1), top):
        url = loaded_index(ctx, size)
        naive = Result(NAME, "all-pairs self-join", "s", size)
        for _ in range(ctx.runs):
            seconds, pairs = self_join_seconds(url, TIME_LIMIT_S)
            naive.values.append(seconds)
            naive.extra["pairs"] = pairs
            if pairs is None:
                naive.note = f"stopped at the {TIME_LIMIT_S:g} s limit: a lower bound"
                break
        results.append(naive)
        if full_check.available():
            first, _ = full_check.memo_or_measure(ctx, size)
            ratio = Result(NAME, "self-join / full check", "ratio", size)
            ratio.goal = f">= {GOAL:g} at 100k"
            ratio.values = [naive.median / s for s in first if s > 0] if naive.median else []
            if size >= GOAL_SIZE and ratio.median is not None:
                ratio.met = ratio.median >= GOAL
            results.append(ratio)
    return results
