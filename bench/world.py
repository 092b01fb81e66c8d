"""Generated worlds and loaded indexes, made once per size and shared by the figures."""

from __future__ import annotations

import json
from pathlib import Path

from bench.generator import Manifest, generate
from bench.harness import Context
from bench.workers import run_worker

_MANIFESTS: dict[tuple[Path, int, int], Manifest] = {}


def world(ctx: Context, size: int) -> Manifest:
    """The JSON Lines of the seeded world of `size` blocks (generated on first use)."""
    key = (ctx.workdir, size, ctx.seed)
    if key not in _MANIFESTS:
        folder = ctx.workdir / f"world-{size}-{ctx.seed}"
        manifest = generate(folder, size, ctx.seed)
        (folder / "manifest.json").write_text(json.dumps(manifest.as_dict()))
        _MANIFESTS[key] = manifest
    return _MANIFESTS[key]


def manifest_path(ctx: Context, size: int) -> Path:
    world(ctx, size)
    return ctx.workdir / f"world-{size}-{ctx.seed}" / "manifest.json"


def adopt_base(ctx: Context, size: int, url: str) -> bool:
    """Keep an index a figure has just loaded with the world as the shared one."""
    if size in ctx._bases:
        return False
    ctx._bases[size] = url
    return True


def loaded_index(ctx: Context, size: int) -> str:
    """The URL of an index holding the world of `size` blocks (ingested on first use).
    Figures must not write to it: they take `ctx.copy_of(...)`."""
    if size not in ctx._bases:
        url = ctx.fresh_index(f"base-{size}")
        run_worker("ingest", url, manifest_path(ctx, size))
        ctx._bases[size] = url
    return ctx._bases[size]
