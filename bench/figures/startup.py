"""Start-up: `metareg --help`, `metareg status` (on an empty index), and `metareg alerts`
and `metareg show IDENTIFIER` (on a small index: the packaged IDN01 sample ingested and
checked) against `python -c pass` with the same interpreter, environment and working
folder, each a fresh process, timed from spawn to exit (issue 17: under 0.5 s).

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
ALERTS = "metareg alerts (IDN01 sample), s"
SHOW = "metareg show ITMO (IDN01 sample), s"
METRICS = (HELP, STATUS, ALERTS, SHOW)
REPEAT = 3
# The small index of `alerts` and `show`: the sample shipped in the package (older
# revisions kept it in config/samples), and a unit it holds.
SAMPLES = ("metareg/defaults/samples/IDN01.jsonl", "config/samples/IDN01.jsonl")
ITMO = "CA0001-IDN01-IDN-1-2023"


def not_run(ctx: Context) -> str | None:
    return None


def _empty_index(ctx: Context, target: Target) -> str:
    def make() -> str:
        url = ctx.fresh_url("startup")
        job(target, "migrate", url=url)
        return url

    url: str = ctx.remember(("startup_index", target.label), make)
    return url


def _cli(target: Target, *args: str) -> None:
    subprocess.run(
        [target.python, "-m", "metareg.cli", *args],
        cwd=target.root,
        env=target.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,  # ingest exits 1 when it quarantined a line; check when it opens alerts
    )


def _sample_index(ctx: Context, target: Target) -> str | None:
    """The IDN01 sample ingested and checked, or None when the target has no sample."""

    def make() -> str | None:
        sample = next((target.root / p for p in SAMPLES if (target.root / p).is_file()), None)
        if sample is None:
            return None
        url = ctx.fresh_url("startup-sample")
        job(target, "migrate", url=url)
        _cli(target, "--db", url, "ingest", "--registry", "IDN01", str(sample))
        _cli(target, "--db", url, "check")
        return url

    url: str | None = ctx.remember(("startup_sample", target.label), make)
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
    sample = _sample_index(ctx, target)
    if sample is not None:
        commands["alerts"] = ["-m", "metareg.cli", "--db", sample, "alerts"]
        commands["show"] = ["-m", "metareg.cli", "--db", sample, "show", ITMO]
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
    for key, metric in (("help", HELP), ("status", STATUS), ("alerts", ALERTS), ("show", SHOW)):
        if not all(key in run for run in runs):
            continue  # (a target without the sample: no alerts nor show figure)
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
