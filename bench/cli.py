"""`python -m bench --size N --db sqlite|postgresql://... [--runs R] [--only FIGURE]...`

Generates the seeded world of N blocks, runs each figure (every figure of issue #7
unless --only names some), prints the table and writes it as JSON (default:
bench/results/bench-<size>-<backend>-<time>.json). Databases are created fresh in a
work folder (or on the PostgreSQL server) and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.figures import FIGURES
from bench.harness import Context, Result, cpu_count
from bench.report import render_table

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="blocks in the world")
    parser.add_argument(
        "--db", default="sqlite", help="'sqlite' (files in the work folder) or a PostgreSQL URL"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each figure (median)")
    parser.add_argument(
        "--only", action="append", choices=sorted(FIGURES), help="run only this figure (repeat)"
    )
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep generated files here (default: temp)")
    args = parser.parse_args(argv)
    if args.size < 10 or args.runs < 1:
        parser.error("--size must be at least 10 and --runs at least 1")
    return args


def environment(ctx: Context) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("sqlalchemy", "psycopg", "orjson", "jsonschema-rs", "fastapi", "uvicorn"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    import sqlite3

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


def run(args: argparse.Namespace) -> tuple[list[Result], dict[str, Any]]:
    own_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="metareg-bench-")) if own_workdir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = Context(size=args.size, db=args.db, runs=args.runs, workdir=workdir, seed=args.seed)
    names = args.only or list(FIGURES)
    results: list[Result] = []
    started = time.perf_counter()
    try:
        for name in names:
            print(f"-- {name} ...", file=sys.stderr, flush=True)
            figure_start = time.perf_counter()
            results.extend(FIGURES[name].run(ctx))
            print(
                f"   {name} done in {time.perf_counter() - figure_start:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    finally:
        ctx.drop_all()
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    meta = {
        "size": args.size,
        "runs": args.runs,
        "seed": args.seed,
        "figures": names,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "environment": environment(ctx),
    }
    return results, meta


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results, meta = run(args)
    print(render_table(results, meta))
    path = args.json or RESULTS / (
        f"bench-{args.size}-{meta['environment']['backend']}-"
        f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**meta, "results": [r.as_dict() for r in results]}, indent=2))
    print(f"results written to {path}")
