"""The workers' figures say what the machine's cores did: how many one process and the
workers kept busy (every process, the database server's included) and the busy
CPU-seconds of each (`bench.harness.busy_since`, `cores_note`), so a speed-up reads as
cores gained times work saved."""

from __future__ import annotations

from typing import Any

import pytest

from bench import harness
from bench.harness import Point


def _stat(monkeypatch: pytest.MonkeyPatch, *lines: str) -> None:
    found = iter(lines)

    class Stat:
        def __enter__(self) -> Stat:
            return self

        def __exit__(self, *_: object) -> None:
            pass

        def readline(self) -> str:
            return next(found)

    monkeypatch.setattr("builtins.open", lambda *_a, **_k: Stat())


def test_busy_cores_count_every_process_and_not_the_hypervisors_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = harness.os.sysconf("SC_CLK_TCK")
    _stat(
        monkeypatch,
        # user nice system idle iowait irq softirq steal
        f"cpu  {100 * t} 0 {20 * t} {500 * t} {10 * t} 0 0 {5 * t}",
        f"cpu  {114 * t} 0 {23 * t} {503 * t} {11 * t} 0 0 {9 * t}",
    )
    before = harness.machine_cpu()
    # 17 busy CPU-seconds (14 user, 3 system) over 10 s: 1.7 cores; steal is not ours.
    assert harness.busy_since(before, 10.0) == {"busy_cpu_seconds": 17.0, "busy_cores": 1.7}


def test_without_proc_stat_nothing_is_claimed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*_a: Any, **_k: Any) -> None:
        raise FileNotFoundError("/proc/stat")

    monkeypatch.setattr("builtins.open", missing)
    assert harness.machine_cpu() is None
    assert harness.busy_since(None, 10.0) == {}
    assert harness.cores_note([(Point(1.0, (0, 0)), Point(2.0, (0, 0)))], 2) == ""


def test_the_note_gives_both_sides_medians(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "cpu_count", lambda: 2)

    def side(cores: float, cpu: float) -> Point:
        return Point(1.0, (0.0, 0.0), {"busy_cores": cores, "busy_cpu_seconds": cpu})

    runs = [
        (side(1.86, 26.8), side(1.45, 30.3)),
        (side(1.90, 27.5), side(1.40, 31.0)),
        (side(1.80, 26.0), side(1.50, 29.0)),
    ]
    note = harness.cores_note(runs, 2)
    assert "1.45 with one process, 1.86 with 2, of 2" in note
    assert "busy CPU-seconds 30.3 and 26.8" in note
