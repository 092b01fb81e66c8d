"""Generated worlds, their DuckDB copies, and the index each run works on.

Each run has its own loaded index per target and size (`loaded`), which the figures
of that run use in the order of `bench.figures.FIGURES` (the checks write alerts and
the increment into it; the API reads it afterwards, with its alerts), dropped when
the run ends. When the run measures the ingest, that index is the one the ingest just
loaded, so a run at 10M blocks on PostgreSQL never holds a copy on disk; otherwise it
is a copy of a base index loaded once per bench run (a compare run of the checks
alone loads each revision once, not once per run).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.generator import Manifest, generate, increment
from bench.harness import Context, Target, job

INCREMENT_RECORDS = 1_000


def _folder(ctx: Context, size: int, wide: bool) -> Path:
    return ctx.workdir / f"world-{size}-{ctx.seed}{'-wide' if wide else ''}"


def world(ctx: Context, size: int, *, wide: bool = False) -> Manifest:
    """The seeded world of `size` blocks as JSON Lines (generated on first use)."""

    def make() -> Manifest:
        folder = _folder(ctx, size, wide)
        manifest = generate(folder, size, ctx.seed, wide=wide)
        (folder / "manifest.json").write_text(json.dumps(manifest.as_dict()))
        return manifest

    manifest: Manifest = ctx.remember(("world", size, wide), make)
    return manifest


def manifest_path(ctx: Context, size: int, *, wide: bool = False) -> str:
    world(ctx, size, wide=wide)
    return str(_folder(ctx, size, wide) / "manifest.json")


def increment_path(ctx: Context, size: int, run: int) -> str:
    """1,000 new records for the world of `size` (different in each run)."""

    def make() -> str:
        folder = ctx.workdir / f"increment-{size}-{run}"
        manifest = increment(folder, size, INCREMENT_RECORDS, f"r{run}", ctx.seed)
        (folder / "manifest.json").write_text(json.dumps(manifest.as_dict()))
        return str(folder / "manifest.json")

    path: str = ctx.remember(("increment", size, run), make)
    return path


def duckdb_file(ctx: Context, size: int) -> Path:
    """The world of `size` loaded into a DuckDB file of its own (not timed)."""

    def make() -> Path:
        world(ctx, size)
        database = ctx.workdir / f"world-{size}-{ctx.seed}.duckdb"
        subprocess.run(
            [sys.executable, "-m", "bench.duck", "load", str(_folder(ctx, size, False)), database],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return database

    database: Path = ctx.remember(("duckdb", size), make)
    return database


def ingested(ctx: Context, target: Target, size: int, run: int) -> dict[str, Any]:
    """This run's `metareg ingest` of the world of `size` into a fresh index of
    `target`: the ingest measurement, and the index the run's other figures use."""

    def make() -> dict[str, Any]:
        url = ctx.fresh_url(f"index-{size}")
        answer = job(target, "ingest", url=url, manifest=manifest_path(ctx, size))
        answer["url"] = url
        ctx.run_indexes.append(url)
        return answer

    answer: dict[str, Any] = ctx.remember(("ingest", target.label, size, run), make)
    return answer


# An index's size per record version (57 GB for the 10M world's 35M records on
# PostgreSQL, 5 GB for the 1M world's 3.5M on SQLite): an estimate, on the high side.
BYTES_PER_RECORD = 1_600


def room_for_copies(ctx: Context, records: int) -> None:
    """Refuse, before loading it, an index the disk cannot hold twice (the base and the
    run's copy of it): found out at the copy, after the load, it cost hours at 10M."""
    needed, free = 2 * records * BYTES_PER_RECORD, ctx.free_bytes()
    if free is not None and needed > free:
        raise RuntimeError(
            f"an index of {records:,} records and its copy need about {_bytes(needed)} of"
            f" disk, {_bytes(free)} are free: measure with --only ingest (the figures then"
            " use the index the ingest loaded, with no copy) or free the disk"
        )


def _bytes(count: int) -> str:
    return f"{count / 1e9:.1f} GB" if count >= 10**9 else f"{count / 1e6:.1f} MB"


def loaded(ctx: Context, target: Target, size: int, run: int) -> str:
    """The index of `size` this run's figures use (see the module docstring)."""
    if ("released", target.label, size, run) in ctx.memo:
        raise RuntimeError(f"the index of {size:,} blocks of run {run + 1} is already dropped")
    ingest = ctx.memo.get(("ingest", target.label, size, run))
    if ingest is not None:
        url: str = ingest["url"]
        return url

    def base() -> str:
        manifest = manifest_path(ctx, size)
        room_for_copies(ctx, world(ctx, size).total_records)
        url = ctx.fresh_url(f"base-{size}")
        job(target, "ingest", url=url, manifest=manifest)
        return url

    def copy() -> str:
        url = ctx.copy_of(ctx.remember(("base", target.label, size), base), f"index-{size}")
        ctx.run_indexes.append(url)
        return url

    url = ctx.remember(("copy", target.label, size, run), copy)
    return url


def release(ctx: Context, target: Target, size: int, run: int) -> None:
    """Drop this run's index of `size` before the run ends (growth, the last figure,
    frees the disk of the N-block index before it loads the N/10 one)."""
    for key in (("ingest", target.label, size, run), ("copy", target.label, size, run)):
        found = ctx.memo.get(key)
        url = found["url"] if isinstance(found, dict) else found
        if url in ctx.run_indexes:
            ctx.run_indexes.remove(url)
            ctx.drop(url)
    ctx.memo[("released", target.label, size, run)] = True
