"""`python -m bench [--size N] [--db sqlite|postgresql://...] [--runs R] [--only FIGURE]...
[--programme-ranges R]
[--compare REV [--compare-label NAME] [--compare-python PYTHON]]`

Generates the seeded world of N blocks and measures every figure (or those --only
names) `--runs` times, each beside its baseline measured in the same run, with the
machine's load average before and after each. Prints the Markdown report
(bench/report.py: the ratios first, then issue 18's goals) and writes every run as
JSON (default: bench/results/bench-<size>-<backend>-<time>.json).

With `--compare REV`, the figures run for that revision of metareg and for this
checkout in one run, interleaved (REV then this checkout, then the other way round,
and so on), and the report leads with each figure's ratio this/REV.

Databases are created fresh in a work folder (or on the PostgreSQL server) and
dropped as soon as their figure is done; the world files stay only with --workdir.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import goals
from bench.figures import FIGURES
from bench.harness import (
    NOT_RUN,
    Context,
    JobFailed,
    Row,
    Target,
    cpu_count,
    load_average,
    unavailable,
)
from bench.report import comparisons, render
from bench.targets import checkout, current, probe

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", type=int, default=100_000, help="blocks in the world")
    parser.add_argument(
        "--db", default="sqlite", help="'sqlite' (files in the work folder) or a PostgreSQL URL"
    )
    parser.add_argument(
        "--programme-ranges",
        type=int,
        metavar="R",
        help="programme unit ranges beside the N blocks of the programmes figure (default 5N; "
        "its growth side has N/10 blocks and R/10 ranges)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each figure (median)")
    parser.add_argument(
        "--only", action="append", choices=list(FIGURES), help="run only this figure (repeat)"
    )
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep generated files here (default: temp)")
    parser.add_argument("--label", help="name of this checkout in the report")
    parser.add_argument("--compare", metavar="REV", help="also measure this git revision")
    parser.add_argument("--compare-label", metavar="NAME", help="its name in the report")
    parser.add_argument(
        "--compare-python", metavar="PYTHON", help="interpreter for REV (default: this one)"
    )
    args = parser.parse_args(argv)
    if args.size < 100 or args.runs < 1:
        parser.error("--size must be at least 100 and --runs at least 1")
    ranges = args.programme_ranges
    if ranges is not None and not args.size <= ranges <= 1_000 * args.size:
        parser.error("--programme-ranges must be between --size and 1,000 x --size")
    if (args.compare_label or args.compare_python) and not args.compare:
        parser.error("--compare-label and --compare-python go with --compare")
    return args


def environment(ctx: Context) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in (
        "sqlalchemy",
        "psycopg",
        "orjson",
        "numpy",
        "fastapi",
        "uvicorn",
        "httpx",
        "duckdb",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["sqlite"] = sqlite3.sqlite_version
    versions["python"] = platform.python_version()
    return {
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cores": cpu_count(),
        "memory_gib": _memory_gib(),
        "system": platform.platform(),
        "versions": versions,
        "backend": ctx.backend,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(ctx: Context, names: list[str]) -> list[Row]:
    """Every chosen figure for every target, run after run, targets interleaved."""
    data: dict[tuple[str, str], list[dict[str, Any]]] = {}
    failed: dict[tuple[str, str], str] = {}
    skipped = {name: FIGURES[name].not_run(ctx) for name in names}
    for run in range(ctx.runs):
        # A, B in one run, B, A in the next: neither revision always goes first.
        order = ctx.targets if run % 2 == 0 else ctx.targets[::-1]
        for name in names:
            figure = FIGURES[name]
            for target in order:
                key = (name, target.label)
                if skipped[name] or target.missing(figure.NEEDS) or key in failed:
                    continue
                say(f"-- run {run + 1}/{ctx.runs} {name} [{target.label}] load {load_average()}")
                started = time.perf_counter()
                try:
                    data.setdefault(key, []).append(figure.measure(ctx, target, run))
                except (JobFailed, RuntimeError, OSError, subprocess.CalledProcessError) as error:
                    failed[key] = f"{type(error).__name__}: {error}"
                    say(f"   {name} [{target.label}] FAILED: {failed[key]}")
                    continue
                say(f"   done in {time.perf_counter() - started:.1f} s")
        ctx.end_run()
    rows: list[Row] = []
    for name in names:
        figure = FIGURES[name]
        for target in ctx.targets:
            key = (name, target.label)
            reason = skipped[name] or target.missing(figure.NEEDS) or failed.get(key)
            if reason:
                for metric in figure.METRICS:
                    row = unavailable(name, metric, target.label, ctx.size, reason)
                    if skipped[name]:
                        row.status = NOT_RUN
                    elif key in failed:
                        row.status = "failed"
                    rows.append(row)
            else:
                rows.extend(figure.rows(ctx, target, data[key]))
    return rows


def judged(document: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    by_key = {(r["figure"], r["metric"], r["target"]): r for r in document["rows"]}
    for target in document["targets"]:
        for goal in goals.GOALS:
            row = by_key.get((goal.figure, goal.metric, target["label"]))
            line = goals.judge(goal, row, document["size"], document["environment"]["backend"])
            lines.append({**line, "target": target["label"]})
    return lines


def run(args: argparse.Namespace) -> dict[str, Any]:
    own_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="metareg-bench-")) if own_workdir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    targets: list[Target] = []
    if args.compare:
        targets.append(checkout(args.compare, workdir, args.compare_label, args.compare_python))
    targets.append(current(args.label))
    names = [name for name in FIGURES if name in (args.only or FIGURES)]  # the run's order
    ctx = Context(
        args.size,
        args.db,
        args.runs,
        workdir,
        targets,
        args.seed,
        tuple(names),
        programme_ranges=args.programme_ranges,
    )
    started = time.perf_counter()
    loads = [load_average()]
    try:
        for target in targets:
            probe(target)
            say(f"target {target.label}: {target.metareg_file}")
        rows = measure(ctx, names)
    finally:
        ctx.drop_all()
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    loads.append(load_average())
    document: dict[str, Any] = {
        "size": args.size,
        "programme_ranges": args.programme_ranges,
        "runs": args.runs,
        "seed": args.seed,
        "figures": names,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "load_average_start_end": loads,
        "environment": environment(ctx),
        "targets": [t.as_dict() for t in targets],
        "rows": [r.as_dict() for r in rows],
    }
    document["goals"] = judged(document)
    if len(targets) > 1:
        document["comparisons"] = comparisons(document["rows"], targets[0].label, targets[1].label)
    return document


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    document = run(args)
    print(render(document))
    path = args.json or RESULTS / (
        f"bench-{args.size}-{document['environment']['backend']}-"
        f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1))
    print(f"results written to {path}")
    if any(r["status"] == "failed" for r in document["rows"]):
        raise SystemExit("some figures failed: see the report")
