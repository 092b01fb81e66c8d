"""Issue 18's goal table (and issue 17's start-up goal), row by row, and how a run's
rows are judged against it.

A goal applies at the sizes and on the backend the issue names; a run elsewhere prints
the row with "not judged" and what it needs. A goal on the ratio judges the median of
the per-run ratios (value and baseline of the same run); a goal on the value (the
latency and start-up goals, which the issues state in milliseconds and seconds)
judges the median value.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from bench.figures import api, checks, detection_workers, growth, ingest, programmes, startup, sync
from bench.figures import sync_workers as workers

M = 1_000_000


@dataclass(frozen=True)
class Goal:
    row: str  # the figure, as worded there
    figure: str
    metric: str
    op: str | None  # "<=", ">=", or None: to be measured, no threshold
    limit: float | None = None
    on: str = "ratio"  # or "value"
    sizes: tuple[int, ...] | None = (M,)  # run sizes the goal applies to (None: any)
    backend: str | None = None  # "sqlite", "postgresql", or None: either

    @property
    def text(self) -> str:
        if self.op is None:
            return "measured"
        unit = "x" if self.on == "ratio" else ""
        return f"{self.on} {self.op} {self.limit:g}{unit}"

    def scope(self) -> str:
        sizes = " or ".join(f"{s:,}" for s in self.sizes) if self.sizes else "any size"
        return f"{sizes} blocks on {self.backend or 'either backend'}"


GOALS = (
    Goal("full check, repeat, 1M blocks, SQLite", "checks", checks.REPEAT, "<=", 1.0,
         backend="sqlite"),
    Goal("full check, first (writes the alerts)", "checks", checks.FIRST, "<=", 1.5),
    Goal("growth 100k -> 1M, first", "growth", growth.FIRST, "<=", 11),
    Goal("growth 100k -> 1M, repeat", "growth", growth.REPEAT, "<=", 11),
    Goal("incremental check, +1,000 records on 1M", "checks", checks.INCREMENTAL, "<=", 0.05),
    Goal("ingest records/s, 1M", "ingest", ingest.INGEST, ">=", 0.5),
    Goal("sync records/s, 1M", "sync", sync.SYNC, ">=", 0.5),
    Goal("API GET /v1/itmos capacity, 1M", "api", api.GET, ">=", 0.5),
    Goal("POST /v1/checks/authorization capacity", "api", api.POST, ">=", 0.7),
    Goal("p99 at half of capacity, GET (ms)", "api", api.GET_P99, "<=", 15, on="value"),
    Goal("p99 at half of capacity, POST (ms)", "api", api.POST_P99, "<=", 15, on="value"),
    Goal("10M blocks on PostgreSQL: full check first, 10M / 1M", "growth", growth.FIRST, "<=",
         12, sizes=(10 * M,), backend="postgresql"),
    Goal("10M blocks on PostgreSQL: full check repeat, 10M / 1M", "growth", growth.REPEAT, "<=",
         12, sizes=(10 * M,), backend="postgresql"),
    Goal("10M blocks on PostgreSQL: ingest, 10M / 1M", "growth", growth.INGEST, None,
         sizes=(10 * M,), backend="postgresql"),
    Goal("detection over 2 worker processes on PostgreSQL, partitioned", "detection_workers",
         detection_workers.METRIC, ">=", 1.6, sizes=(M, 10 * M), backend="postgresql"),
    Goal("3 sync workers on PostgreSQL, 30 registries", "sync_workers", workers.METRIC, ">=",
         1.5, sizes=(M, 10 * M), backend="postgresql"),
    Goal("start-up, metareg --help (s, issue 17)", "startup", startup.HELP, "<=", 0.5,
         on="value", sizes=None),
    Goal("start-up, metareg status (s, issue 17)", "startup", startup.STATUS, "<=", 0.5,
         on="value", sizes=None),
    Goal("start-up, metareg alerts (s, issue 17)", "startup", startup.ALERTS, "<=", 0.5,
         on="value", sizes=None),
    Goal("start-up, metareg show ITMO (s, issue 17)", "startup", startup.SHOW, "<=", 0.5,
         on="value", sizes=None),
    Goal("DC15/DC16 pass / DC03 pass, 1M blocks, 5M ranges (issue 15)", "programmes",
         programmes.COST, "<=", 1.0),
    Goal("DC15/DC16 pass growth / n log n, (50k, 500k) -> (500k, 5M) (issue 15)", "programmes",
         programmes.GROWTH_NLOGN, "<=", 1.0, sizes=(M // 2,)),
)  # fmt: skip

_OPS = {"<=": operator.le, ">=": operator.ge}


def judge(goal: Goal, row: dict[str, Any] | None, size: int, backend: str) -> dict[str, Any]:
    """One line of the goals table for one target's row."""
    line: dict[str, Any] = {"goal": goal.row, "figure": goal.figure, "metric": goal.metric}
    line.update(wanted=goal.text, on=goal.on, met=None, measured=None)
    if row is None or row["status"] != "measured":
        line["verdict"] = (
            f"{row['status']}: {row['reason']}" if row else "not run (figure not chosen)"
        )
        return line
    line["measured"] = row["ratio" if goal.on == "ratio" else "value"]["median"]
    if (goal.sizes is not None and size not in goal.sizes) or goal.backend not in (None, backend):
        line["verdict"] = f"not judged: the goal is for {goal.scope()}"
        return line
    if goal.op is None or goal.limit is None:
        line["verdict"] = "measured (no threshold)"
        return line
    line["met"] = bool(_OPS[goal.op](line["measured"], goal.limit))
    line["verdict"] = "MET" if line["met"] else "MISSED"
    return line
