"""The workers' figures say how much a speed-up this machine allows: the cores one
process kept busy (every process, the database server's included) against the cores
there are (`bench.harness.ceiling`)."""

from __future__ import annotations

import pytest

from bench import harness
from bench.harness import Point


def test_the_ceiling_is_the_cores_over_those_one_process_kept_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(harness, "cpu_count", lambda: 2)
    assert harness.ceiling(1.45, 2) == pytest.approx(1.379, abs=0.001)
    assert harness.ceiling(1.2, 3) == pytest.approx(1.667, abs=0.001)
    assert harness.ceiling(0.5, 2) == 2.0  # never more than the workers
    assert harness.ceiling(None, 2) is None


def test_busy_cores_count_every_process_and_not_the_hypervisors_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    ticks = harness.os.sysconf("SC_CLK_TCK")
    lines = iter(
        [
            # user nice system idle iowait irq softirq steal
            f"cpu  {100 * ticks} 0 {20 * ticks} {500 * ticks} {10 * ticks} 0 0 {5 * ticks}",
            f"cpu  {114 * ticks} 0 {23 * ticks} {503 * ticks} {11 * ticks} 0 0 {9 * ticks}",
        ]
    )

    class Stat:
        def __enter__(self) -> Stat:
            return self

        def __exit__(self, *_: object) -> None:
            pass

        def readline(self) -> str:
            return next(lines)

    monkeypatch.setattr("builtins.open", lambda *_a, **_k: Stat())
    before = harness.machine_cpu()
    # 17 busy CPU-seconds (14 user, 3 system) over 10 s: 1.7 cores; steal is not ours.
    assert harness.busy_cores(before, 10.0) == pytest.approx(1.7)


def test_the_note_names_the_median_of_the_baselines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "cpu_count", lambda: 2)
    runs = [Point(10.0, (0.0, 0.0), {"busy_cores": b}) for b in (1.3, 1.45, 1.6)]
    note = harness.ceiling_note(runs, 2)
    assert "kept 1.45 of 2 cores busy" in note
    assert "at most 1.38x" in note
    assert harness.ceiling_note([Point(1.0, (0.0, 0.0), {})], 2) == ""
