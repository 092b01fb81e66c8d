"""Start-up: `metareg --help` and `metareg status` (on an empty index) against
`python -c pass` with the same interpreter, environment and working folder, each a
fresh process, timed from spawn to exit (issue 17: under 0.5 s).

The commands run as `python -m metareg.cli`, which is what the `metareg` script runs,
so the target's own code starts (see bench.harness.Target). Each run times every
command `REPEAT` times (once in a short run), interleaved, and keeps the median of each.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import Any

from bench.harness import Context, Point, Row, Target, job, load_average

NAME = "startup"
NEEDS = "startup"
HELP = "metareg --help, s"
STATUS = "metareg status (empty index), s"
METRICS = (HELP, STATUS)
REPEAT = 3


def not_run(ctx: Context) -> str | None:
    return None


def _empty_index(ctx: Context, target: Target) -> str:
    def make() -> str:
        url = ctx.fresh_url("startup")
        job(target, "migrate", url=url)
        return url

    url: str = ctx.remember(("startup_index", target.label), make)
    return url


def _seconds(target: Target, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [target.python, *args],
        cwd=target.root,
        env=target.env(),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def measure(ctx: Context, target: Target, run: int) -> dict[str, Point]:
    commands = {
        "python": ["-c", "pass"],
        "help": ["-m", "metareg.cli", "--help"],
        "status": ["-m", "metareg.cli", "--db", _empty_index(ctx, target), "status"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    loads: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(1 if ctx.short else REPEAT):
        for name, args in commands.items():
            loads[name].append(load_average())
            times[name].append(_seconds(target, args))
            loads[name].append(load_average())
    return {
        name: Point(statistics.median(times[name]), (loads[name][0], loads[name][-1]), {"each": t})
        for name, t in times.items()
    }


def rows(ctx: Context, target: Target, runs: list[dict[str, Any]]) -> list[Row]:
    result = []
    for key, metric in (("help", HELP), ("status", STATUS)):
        row = Row(
            NAME,
            metric,
            "s",
            "python -c pass (same interpreter and environment)",
            "s",
            "metareg / python",
            target.label,
            ctx.size,
        )
        for run in runs:
            row.add(run[key], run["python"])
        result.append(row)
    return result
