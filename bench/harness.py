"""What every figure shares: the run's settings, the revisions under test, fresh
databases, child processes, the machine's load, and the rows of the table.

The house rule: performance is a ratio. A figure is a value (metareg doing the work)
beside a baseline (something else doing comparable work) measured in the same run on
the same machine, each with the 1-minute load average before and after it; the ratio
of the two is the headline. Absolute values are kept as context only.

Everything that runs metareg runs in a child process of its *target* (a revision of
metareg: this checkout, or another one for `--compare`), so two revisions can be
measured side by side from one bench process, which itself never imports metareg.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

# The checkout whose bench/ is running: its parent folder goes on every child's path.
BENCH_ROOT = Path(__file__).resolve().parents[1]
ANSWER = "BENCH-ANSWER "
READY = "BENCH-READY"

SHORT_BELOW = 10_000
MEASURED = "measured"
UNAVAILABLE = "not available"
NOT_RUN = "not run"


def quiet_logs() -> None:
    """Children log warnings and errors only (to stderr): a figure's time is not spent
    formatting its progress, and the bench's own output stays readable."""
    import logging

    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def load_average() -> float:
    """The machine's 1-minute load average (every process, not only ours)."""
    return round(os.getloadavg()[0], 2)


def machine_cpu() -> float | None:
    """The busy CPU-seconds of the whole machine since boot, every core summed
    (`/proc/stat`: running code, neither idle, waiting on I/O nor taken by the
    hypervisor); None where there is none."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user, nice, system, idle, iowait, irq, softirq, steal (guest time is in user)
    user, nice, system, _idle, _iowait, irq, softirq = (fields + [0] * 7)[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def busy_since(before: float | None, seconds: float) -> dict[str, float]:
    """What the machine's cores did since `before` (`machine_cpu`), over `seconds`: the
    busy CPU-seconds of every process (the jobs, the database server, anything else
    running) and the cores that kept busy on average; nothing where /proc/stat is not."""
    after = machine_cpu()
    if before is None or after is None or seconds <= 0:
        return {}
    busy = after - before
    return {"busy_cpu_seconds": round(busy, 2), "busy_cores": round(busy / seconds, 3)}


def cores_note(runs: list[tuple[Point, Point]], workers: int) -> str:
    """A workers' row's note on the cores: how many the machine kept busy with one
    process and with the workers (medians of the runs), and the busy CPU-seconds of
    each. A speed-up is the cores gained times the CPU-seconds saved: once the workers
    keep every core busy, only less work goes faster."""
    pairs = [
        (value.extra, baseline.extra)
        for value, baseline in runs
        if value.extra.get("busy_cores") and baseline.extra.get("busy_cores")
    ]
    if not pairs:
        return ""

    def median(side: int, name: str) -> float:
        return statistics.median(pair[side][name] for pair in pairs)

    return (
        f"cores kept busy (every process, the database server's included): "
        f"{median(1, 'busy_cores'):.2f} with one process, {median(0, 'busy_cores'):.2f} "
        f"with {workers}, of {cpu_count()}; busy CPU-seconds "
        f"{median(1, 'busy_cpu_seconds'):.1f} and {median(0, 'busy_cpu_seconds'):.1f}"
    )


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class Point:
    """One timed quantity of one run, with the load average around it."""

    value: float
    load: tuple[float, float]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "load": list(self.load), **self.extra}


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


@dataclass
class Row:
    """One figure for one target: each run's value beside its baseline, and the ratio.

    `ratio` is value / baseline, or baseline / value when `inverse` (a speed-up: the
    baseline's time over ours)."""

    figure: str
    metric: str
    unit: str
    baseline: str
    baseline_unit: str
    ratio_label: str
    target: str
    size: int
    inverse: bool = False
    runs: list[tuple[Point, Point]] = field(default_factory=list)
    status: str = MEASURED
    reason: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Point, baseline: Point) -> None:
        self.runs.append((value, baseline))

    @property
    def values(self) -> list[float]:
        return [v.value for v, _ in self.runs]

    @property
    def baselines(self) -> list[float]:
        return [b.value for _, b in self.runs]

    @property
    def ratios(self) -> list[float]:
        ratios = []
        for value, baseline in zip(self.values, self.baselines, strict=True):
            top, bottom = (baseline, value) if self.inverse else (value, baseline)
            ratios.append(top / bottom if bottom > 0 else float("inf"))
        return ratios

    @property
    def ratio(self) -> float | None:
        return _stats(self.ratios)["median"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "metric": self.metric,
            "target": self.target,
            "size": self.size,
            "status": self.status,
            "reason": self.reason,
            "note": self.note,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_unit": self.baseline_unit,
            "ratio_label": self.ratio_label,
            "inverse": self.inverse,
            "ratio": _stats(self.ratios),
            "value": _stats(self.values),
            "baseline_value": _stats(self.baselines),
            "runs": [
                {"value": v.as_dict(), "baseline": b.as_dict(), "ratio": r}
                for (v, b), r in zip(self.runs, self.ratios, strict=True)
            ],
            "extra": self.extra,
        }


def unavailable(figure: str, metric: str, target: str, size: int, reason: str) -> Row:
    return Row(
        figure, metric, "", "", "", "", target, size, status=UNAVAILABLE, reason=reason.strip()
    )


# -- targets: the revisions of metareg under test ---------------------------------------


@dataclass
class Target:
    """A revision of metareg: its source folder and the Python that runs it.

    A child runs with its working folder at `root` (first on `sys.path` under `-m`,
    so `import metareg` finds that revision's package before any installed one) and
    BENCH_ROOT on PYTHONPATH (so `import bench` finds this bench; the root of another
    revision has no bench/ folder). Every job reports the metareg file it imported,
    and a job that imported another revision's code fails the run."""

    label: str
    root: Path
    python: str = sys.executable
    revision: str = ""
    capabilities: dict[str, str | None] = field(default_factory=dict)
    metareg_file: str = ""

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(BENCH_ROOT)}
        env.pop("PYTHONSTARTUP", None)
        return env

    def command(self, *args: str, own_session: bool = False) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [self.python, *args],
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=own_session,
        )

    def missing(self, figure: str) -> str | None:
        """What this revision lacks for `figure` (None when it has everything)."""
        return self.capabilities.get(figure)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "root": str(self.root),
            "python": self.python,
            "revision": self.revision,
            "metareg_file": self.metareg_file,
            "missing": {k: v for k, v in self.capabilities.items() if v},
        }


class JobFailed(RuntimeError):
    pass


class Running:
    """A job started in a child of a target; `finish()` collects its answer."""

    def __init__(
        self, target: Target, kind: str, args: dict[str, Any], *, own_session: bool = False
    ) -> None:
        self.target = target
        self.kind = kind
        self.load_before = load_average()
        self.process = target.command("-m", "bench.jobs", kind, own_session=own_session)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(args).encode() + b"\n")
        self.process.stdin.flush()

    def wait_ready(self) -> None:
        """Block until the child has done its set-up and waits for `go()`."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.decode().strip() == READY:
                return
        raise JobFailed(f"bench job {self.kind} ended before it was ready")

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"go\n")
        self.process.stdin.flush()

    def finish(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        output = self.process.stdout.read().decode()
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        if self.process.returncode != 0:
            raise JobFailed(
                f"bench job {self.kind} of {self.target.label} failed "
                f"(exit {self.process.returncode})"
            )
        lines = [line for line in output.splitlines() if line.startswith(ANSWER)]
        if not lines:
            raise JobFailed(f"bench job {self.kind} of {self.target.label} gave no answer")
        answer: dict[str, Any] = json.loads(lines[-1][len(ANSWER) :])
        imported = answer.get("metareg_file")
        if imported and not Path(imported).resolve().is_relative_to(self.target.root.resolve()):
            raise JobFailed(
                f"bench job {self.kind} of {self.target.label} imported {imported}, "
                f"not the code under {self.target.root}"
            )
        answer["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux reports KiB
        answer["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)  # set-up included
        answer["load"] = (self.load_before, load_average())
        return answer


def job(target: Target, kind: str, **args: Any) -> dict[str, Any]:
    """Run one job (`bench/jobs.py`) in a child of `target` and return its answer,
    with the child's peak RSS and the load average before and after it."""
    return Running(target, kind, args).finish()


def together(
    target: Target, job_of: Callable[[int], tuple[str, dict[str, Any]]], count: int
) -> Point:
    """Start `count` barrier jobs (`job_of(index)`: kind and arguments), let them go at
    once when all are set up, and time them from the first start to the last end
    (seconds; each answer in `extra`).

    Each job is a session of its own, as separately started worker processes are: Linux
    (sched_autogroup, on here) shares the CPU fairly among sessions, not processes, so
    jobs left in the bench's session would share one session's CPU however many there
    are. On a machine others keep busy, 3 workers then got no more CPU than 1 (measured:
    52.8 CPU-s in 103 s against 51.3 in 109 s, 3 workers / 1 = 1.06 at load 11)."""
    running: list[Running] = []
    try:
        for index in range(count):
            running.append(Running(target, *job_of(index), own_session=True))
        for child in running:
            child.wait_ready()
        before = load_average()
        cpu, started = machine_cpu(), time.perf_counter()
        for child in running:
            child.go()
        answers = [child.finish() for child in running]
        busy = busy_since(cpu, time.perf_counter() - started)
    except BaseException:
        for child in running:  # none is left waiting for a go that will not come
            if child.process.poll() is None:
                child.process.kill()
                child.process.wait()
        raise
    seconds = max(a["end"] for a in answers) - min(a["start"] for a in answers)
    return Point(
        seconds,
        (before, load_average()),
        {"workers": count, "answers": answers, **busy},
    )


def point(answer: dict[str, Any], value: float, **extra: Any) -> Point:
    return Point(value, tuple(answer["load"]), extra)


# -- databases ---------------------------------------------------------------------------


def psycopg_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(False)


@contextmanager
def admin(server_url: str) -> Iterator[Connection]:
    engine = create_engine(psycopg_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@dataclass
class Context:
    """The settings of one `python -m bench` run, and what its figures share."""

    size: int
    db: str  # "sqlite" (files in workdir) or a PostgreSQL server URL
    runs: int
    workdir: Path
    targets: list[Target]
    seed: int = 7
    figures: tuple[str, ...] = ()  # the figures this run measures, in order
    programme_ranges: int | None = None  # the programmes figure's ranges (None: 5 x size)
    # what figures share: worlds, and each run's measurements by (kind, target, size, run)
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # the indexes loaded in the current run (dropped when it ends: see bench.world)
    run_indexes: list[str] = field(default_factory=list)
    _made: set[str] = field(default_factory=set)

    @property
    def backend(self) -> str:
        return "postgresql" if self.db.startswith("postgres") else "sqlite"

    @property
    def short(self) -> bool:
        """Below 10,000 blocks (the smoke test, development) figures run short: fewer
        requests and start-ups. Their ratios are checked, not quoted."""
        return self.size < SHORT_BELOW

    def fresh_url(self, tag: str) -> str:
        """The URL of a new, empty database (the job that uses it migrates it)."""
        if self.backend == "sqlite":
            url = f"sqlite:///{self.workdir / f'{tag}-{secrets.token_hex(3)}.db'}"
        else:
            name = f"metareg_bench_{tag}_{secrets.token_hex(3)}".replace("-", "_")
            with admin(self.db) as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(psycopg_url(self.db)).set(database=name).render_as_string(False)
        self._made.add(url)
        return url

    def free_bytes(self) -> int | None:
        """The free disk where this run's indexes live: the work folder (SQLite), or the
        PostgreSQL server's data directory when it is on this machine; None if unknown."""
        if self.backend == "sqlite":
            return shutil.disk_usage(self.workdir).free
        try:
            with admin(self.db) as connection:
                folder = connection.execute(text("SHOW data_directory")).scalar()
        except Exception:  # not allowed to ask, or no server: unknown
            return None
        if not folder or not os.path.isdir(str(folder)):  # a server elsewhere
            return None
        return shutil.disk_usage(str(folder)).free

    def copy_of(self, url: str, tag: str) -> str:
        """A throw-away copy of a loaded index (for figures that write to it)."""
        if self.backend == "sqlite":
            source = make_url(url).database or ""
            with sqlite3.connect(source) as connection:  # the WAL into the main file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            target = self.workdir / f"{tag}-{secrets.token_hex(3)}.db"
            shutil.copyfile(source, target)
            copy = f"sqlite:///{target}"
            self.settle()
        else:
            name = f"metareg_bench_{tag}_{secrets.token_hex(3)}".replace("-", "_")
            template = make_url(url).database
            with admin(self.db) as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": template},
                )
                connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            copy = make_url(url).set(database=name).render_as_string(False)
            self.settle()
        self._made.add(copy)
        return copy

    def settle(self) -> None:
        """Write out what the bench itself left unwritten (a copy's pages in the page
        cache; on PostgreSQL, dirty shared buffers and the WAL of a copy or an ingest)
        before a timed figure starts. Unsettled, it is written during the figure: the
        first full check's commit, whose fsync waited 4.2 s for the 5 GB copy of the 1M
        index made just before it (10.8 s against 6.5 s settled, 2026-12-05)."""
        os.sync()
        if self.backend == "postgresql":
            with admin(self.db) as connection:
                connection.execute(text("CHECKPOINT"))

    def drop(self, url: str) -> None:
        self._made.discard(url)
        if self.backend == "sqlite":
            database = make_url(url).database or ""
            for suffix in ("", "-wal", "-shm"):
                Path(database + suffix).unlink(missing_ok=True)
            return
        with admin(self.db) as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
            )

    def end_run(self) -> None:
        for url in self.run_indexes:
            self.drop(url)
        self.run_indexes.clear()

    def drop_all(self) -> None:
        for url in list(self._made):
            self.drop(url)
        self.run_indexes.clear()

    def remember(self, key: tuple[Any, ...], measure: Any) -> Any:
        """`measure()` once per key within this bench run (figures share measurements)."""
        if key not in self.memo:
            self.memo[key] = measure()
        return self.memo[key]
