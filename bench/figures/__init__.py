"""One module per figure, in the order a run measures them (see bench.world: the
checks write into the run's loaded index before the API reads it; growth, last,
drops it before it loads the N/10 world).

A figure module has:

- `NAME` (what `--only` takes) and `NEEDS` (its entry in `bench.adapter.NEEDS`);
- `METRICS`: the rows it prints, so a figure that cannot run still lists each one;
- `not_run(ctx)`: why it does not run at this size or backend, or None;
- `measure(ctx, target, run)`: one run for one target, a dict of `Point`s (each with
  the load average around it) and whatever its rows need;
- `rows(ctx, target, runs)`: the `Row`s, each value beside its baseline of the same run.
"""

from __future__ import annotations

from types import ModuleType

from bench.figures import (
    api,
    checks,
    detection_workers,
    growth,
    ingest,
    programmes,
    startup,
    sync,
    sync_workers,
)

FIGURES: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        ingest,
        sync,
        checks,
        api,
        detection_workers,
        sync_workers,
        startup,
        programmes,
        growth,
    )
}
