"""The checks: the full check against DuckDB, the first check against the repeat, and
the incremental check against the repeat, on the run's loaded index.

One child of the target runs, on that index: the first full check (it writes every
alert and its event), a repeat (the steady state a scheduled check meets: the same
conflicts, only `last_seen` moves), then ingests 1,000 new records (half new
issuances, half transfers into existing ranges) and runs the incremental check.

The baseline of the full check is what a data engineer would write instead: DuckDB,
opened from its own file in a fresh process, computing the DC01 pairs and the overlap
clusters of the same world (`bench/duck.py`). Its DC01 pairs must equal metareg's
DC01 alerts on the same world; the row says so, and the smoke test holds it to it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from typing import Any

from bench.harness import (
    BENCH_ROOT,
    Context,
    Point,
    Row,
    Target,
    job,
    load_average,
    point,
    unavailable,
)
from bench.world import duckdb_file, increment_path, loaded, world

NAME = "checks"
NEEDS = "checks"
AS_OF = "2026-12-31"  # a fixed "now" for DC10/DC11, so results are reproducible
REPEAT = "full check, repeat"
FIRST = "full check, first (writes the alerts)"
INCREMENTAL = "incremental check, +1,000 records"
CORRECTED = "incremental check, the same 1,000 records corrected (context)"
METRICS = (REPEAT, FIRST, INCREMENTAL, CORRECTED)
DUCKDB = "DuckDB: DC01 pairs + overlap clusters, own file, fresh process"


def not_run(ctx: Context) -> str | None:
    return None


def checked(ctx: Context, target: Target, size: int, run: int) -> dict[str, Any]:
    """This run's checks of `target` on its index of `size` (shared with growth)."""

    def make() -> dict[str, Any]:
        url = loaded(ctx, target, size, run)
        increment = increment_path(ctx, size, run)
        ctx.settle()  # an ingest's or a copy's writes are not the check's
        return job(target, "checks", url=url, as_of=AS_OF, increment=increment, dc01=True)

    answer: dict[str, Any] = ctx.remember(("checks", target.label, size, run), make)
    return answer


def duckdb_missing() -> str | None:
    if importlib.util.find_spec("duckdb") is None:
        return "the duckdb package is not installed (pip install -e '.[bench]')"
    return None


def duckdb(ctx: Context, size: int, run: int) -> dict[str, Any]:
    """This run's DuckDB baseline (once per run, shared by every target)."""

    def make() -> dict[str, Any]:
        database = duckdb_file(ctx, size)
        before = load_average()
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench.duck", "check", str(database)],
            check=True,
            capture_output=True,
            cwd=BENCH_ROOT,
        )
        process_seconds = time.perf_counter() - start
        answer: dict[str, Any] = json.loads(done.stdout.decode().splitlines()[-1])
        answer["load"] = (before, load_average())
        answer["process_seconds"] = process_seconds
        return answer

    answer: dict[str, Any] = ctx.remember(("duckdb", size, run), make)
    return answer


def measure(ctx: Context, target: Target, run: int) -> dict[str, Any]:
    answer = checked(ctx, target, ctx.size, run)
    measured: dict[str, Any] = {
        "first": point(answer, answer["first"]),
        "repeat": point(answer, answer["repeat"]),
        "incremental": point(
            answer, answer["incremental"], was_full=answer["incremental_was_full"]
        ),
        "corrected": point(answer, answer["corrected"], **answer["corrected_changes"]),
        "open_alerts": answer["open_alerts"],
        "dc01": answer["dc01_pairs"],
    }
    if duckdb_missing() is None:
        duck = duckdb(ctx, ctx.size, run)
        measured["duckdb"] = Point(
            duck["seconds"],
            tuple(duck["load"]),
            {
                "process_seconds": duck["process_seconds"],
                "clusters": duck["clusters"],
                "clustered_blocks": duck["clustered_blocks"],
                "threads": duck["threads"],
            },
        )
        measured["duckdb_dc01"] = duck["dc01_pairs"]
    return measured


def cross_check(runs: list[dict[str, Any]]) -> tuple[bool, str]:
    """Whether DuckDB's DC01 pairs equal metareg's DC01 alerts in every run."""
    for run in runs:
        ours = {tuple(pair) for pair in run["dc01"]}
        theirs = {tuple(pair) for pair in run["duckdb_dc01"]}
        if ours != theirs:
            only_duck, only_ours = sorted(theirs - ours), sorted(ours - theirs)
            return False, (
                f"DC01 CROSS-CHECK FAILED: {len(only_duck)} pairs only in DuckDB "
                f"(e.g. {only_duck[:2]}), {len(only_ours)} only in metareg's alerts "
                f"(e.g. {only_ours[:2]})"
            )
    pairs = len(runs[0]["dc01"]) if runs else 0
    return True, f"DuckDB's {pairs} DC01 pairs = metareg's DC01 alerts"


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    label, size = target.label, ctx.size
    result = []
    missing = duckdb_missing()
    if missing:
        result.append(unavailable(NAME, REPEAT, label, size, missing))
    else:
        repeat = Row(NAME, REPEAT, "s", DUCKDB, "s", "metareg / DuckDB", label, size)
        for run in runs:
            repeat.add(run["repeat"], run["duckdb"])
        equal, repeat.note = cross_check(runs)
        repeat.extra["dc01_cross_check"] = "equal" if equal else "differs"
        repeat.extra["dc01_pairs"] = len(runs[0]["dc01"]) if runs else 0
        result.append(repeat)
    first = Row(NAME, FIRST, "s", "the repeat full check", "s", "first / repeat", label, size)
    incremental = Row(
        NAME, INCREMENTAL, "s", "the repeat full check", "s", "incremental / full", label, size
    )
    corrected = Row(
        NAME, CORRECTED, "s", "the repeat full check", "s", "incremental / full", label, size
    )
    for run in runs:
        first.add(run["first"], run["repeat"])
        incremental.add(run["incremental"], run["repeat"])
        corrected.add(run["corrected"], run["repeat"])
    planted = dict(world(ctx, size).planted)
    found = runs[-1]["open_alerts"] if runs else {}
    first.extra = {"planted": planted, "open_alerts": found}
    lost = sorted(rule for rule, count in planted.items() if count and not found.get(rule))
    if lost:
        first.note = f"planted but not found: {', '.join(lost)}"
    if any(run["incremental"].extra["was_full"] for run in runs):
        incremental.note = "the check chose a full pass, not an incremental one"
    changes = [run["corrected"].extra for run in runs]
    if any(c["was_full"] for c in changes):
        corrected.note = "the check chose a full pass, not an incremental one"
    elif changes:
        opened, resolved = max(c["opened"] for c in changes), max(c["resolved"] for c in changes)
        corrected.note = f"alerts opened {opened}, resolved {resolved}" + (
            "" if opened or resolved else ": every alert judged again confirmed"
        )
    return [*result, first, incremental, corrected]
