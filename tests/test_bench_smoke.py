"""Smoke test of `python -m bench` at its smallest size: not a timed test.

It runs every figure end to end on a tiny seeded world (SQLite, one run) and holds the
report to what a reader of docs/benchmarks.md relies on: every figure that can run on
SQLite is measured, with its value, its baseline from the same run, their ratio and
the load average around each; a figure may be "not available" only when metareg lacks
a module it needs, and then its reason names that module; the baselines are honest
(DuckDB's DC01 pairs are metareg's DC01 alerts, every planted rule is found, the
workers sync the whole world once, no API request fails); every goal of issue 18 has
its line. Comparing with another revision runs that revision's code.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench import adapter, goals, world
from bench.cli import main
from bench.figures import FIGURES
from bench.generator import RULES, generate
from bench.harness import BENCH_ROOT, Context

SIZE = 2_000  # seeded: plants at least one conflict of every DC rule
# A figure may be unavailable when metareg lacks what it needs, and only then: today
# partitioned detection (issue 18) is not written yet.
MAY_LACK_A_MODULE = {"detection_workers"}


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, Any]:
    out = tmp_path / "bench.json"
    main([*args, "--runs", "1", "--json", str(out)])
    return capsys.readouterr().out, json.loads(out.read_text())


def _lacks_what_it_needs(figure: str) -> bool:
    """True when this checkout of metareg really lacks something `figure` needs (looked
    up here, as the bench looks it up): the only excuse for a figure not measured."""
    for name in adapter.NEEDS[FIGURES[figure].NEEDS]:
        try:
            adapter.locate(name)
        except adapter.Missing:
            return True
    return False


def test_only_a_missing_module_excuses_a_figure() -> None:
    assert not _lacks_what_it_needs("checks")  # everything the checks figure calls exists
    assert all(not _lacks_what_it_needs(f) for f in FIGURES if f not in MAY_LACK_A_MODULE)


def _measured(row: dict[str, Any]) -> None:
    """A measured row: one run, value and baseline present and positive, a finite
    ratio, and the load average before and after each."""
    assert row["status"] == "measured", row
    (run,) = row["runs"]
    for side in ("value", "baseline"):
        assert run[side]["value"] > 0, row
        before, after = run[side]["load"]
        assert before >= 0 and after >= 0, row
    assert math.isfinite(run["ratio"]) and run["ratio"] > 0, row
    assert row["ratio"]["median"] == run["ratio"], row
    assert row["baseline"] and row["ratio_label"], row


@pytest.mark.slow
def test_every_figure_is_measured_beside_its_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table, document = _run(tmp_path, capsys, "--size", str(SIZE))

    rows = document["rows"]
    assert document["size"] == SIZE and document["environment"]["cores"] >= 1
    for name, figure in FIGURES.items():
        metrics = [r["metric"] for r in rows if r["figure"] == name]
        assert metrics == list(figure.METRICS), name  # every row, even when not measured
    for row in rows:
        assert row["metric"] in table
        if row["figure"] in MAY_LACK_A_MODULE and row["status"] != "measured":
            # Not measured only while metareg really lacks the module: once it lands,
            # the figure must be measured (a broken figure must not pass as absent).
            assert row["status"] == "not available", row
            assert "metareg." in row["reason"] and "not found" in row["reason"], row
            assert _lacks_what_it_needs(row["figure"]), row
        else:
            _measured(row)

    by_metric = {r["metric"]: r for r in rows}
    checks = FIGURES["checks"]
    repeat = by_metric[checks.REPEAT]
    assert repeat["extra"]["dc01_cross_check"] == "equal", repeat["note"]
    assert repeat["extra"]["dc01_pairs"] > 0
    first = by_metric[checks.FIRST]
    planted = first["extra"]["planted"]
    assert set(planted) == set(RULES)
    assert not [rule for rule in planted if not first["extra"]["open_alerts"].get(rule)]
    assert by_metric[checks.INCREMENTAL]["runs"][0]["value"]["was_full"] is False
    corrected = by_metric[checks.CORRECTED]["runs"][0]["value"]
    assert (corrected["was_full"], corrected["opened"], corrected["resolved"]) == (False, 0, 0)
    api = FIGURES["api"]
    get = by_metric[api.GET]
    # The GET row says what the machine allows: the generator's and the machine's CPU per
    # request, and the highest ratio the cores allow a server that only ran the query.
    assert get["runs"][0]["value"]["generator_cpu_ms"] > 0
    assert "a ratio of at most" in get["note"] and "the generator" in get["note"], get
    ingest = by_metric[FIGURES["ingest"].INGEST]["runs"][0]["value"]
    assert ingest["records"] > 3 * SIZE  # about 3.5 records a block
    for row in rows:
        assert "FAILED" not in row["note"] and "RECEIVED" not in row["note"], row

    lines = {(g["goal"], g["target"]) for g in document["goals"]}
    (target,) = document["targets"]
    assert lines == {(goal.row, target["label"]) for goal in goals.GOALS}
    assert "Issue 18's goals" in table and "Ratios to the baselines" in table


def test_the_api_alone_is_measured_on_an_index_with_its_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--only api` serves the index the checks left, as a whole run does: each GET and
    authorization check reads the alerts on its units, so an index without them would
    measure less work than a service does."""
    _, document = _run(tmp_path, capsys, "--size", str(SIZE), "--only", "api")
    by_metric = {r["metric"]: r for r in document["rows"]}
    api = FIGURES["api"]
    for metric in (api.GET, api.POST):
        (run,) = by_metric[metric]["runs"]
        assert run["value"]["open_alerts"] > 0, metric


@pytest.mark.slow
def test_compare_runs_the_other_revisions_code_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, document = _run(
        tmp_path, capsys, "--size", "300", "--only", "checks", "--compare", "HEAD",
        "--compare-label", "before",
    )  # fmt: skip

    before, this = document["targets"]
    assert before["label"] == "before"
    assert "revision-" in before["metareg_file"]
    assert not Path(before["metareg_file"]).is_relative_to(BENCH_ROOT)
    assert Path(this["metareg_file"]).is_relative_to(BENCH_ROOT)
    compared = {c["metric"]: c for c in document["comparisons"]}
    assert set(compared) == set(FIGURES["checks"].METRICS)
    for comparison in compared.values():
        (ratio,) = comparison["b_over_a_runs"]
        assert math.isfinite(ratio) and ratio > 0


def test_generator_is_seeded_and_plants_every_rule(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", SIZE, seed=3)
    again = generate(tmp_path / "b", SIZE, seed=3)
    assert first.planted == again.planted and set(first.planted) == set(RULES)
    for registry, path in first.files.items():
        assert Path(path).read_bytes() == Path(again.files[registry]).read_bytes()
    assert 3 * SIZE < first.total_records < 4 * SIZE
    wide = generate(tmp_path / "wide", SIZE, seed=3, wide=True)
    assert len(wide.files) == 30 and set(wide.planted) == set(RULES)


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the index's tables that an ingest writes, in id order, without the
    times of writing (`received_at`, `created_at`)."""
    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    found = {}
    with engine.connect() as connection:
        for name in ("registry", "actions", "unit_statuses", "record_version", "block_span"):
            table = metadata.tables[name]
            columns = [c for c in table.c if c.name not in ("received_at", "created_at")]
            order = table.c.id if "id" in table.c else next(iter(table.primary_key))
            found[name] = [
                tuple(row) for row in connection.execute(select(*columns).order_by(order))
            ]
    engine.dispose()
    return found


def test_the_programmes_world_planted_in_bulk_is_the_ingested_one(tmp_path: Path) -> None:
    """The programmes figure plants its world with bulk inserts (1M blocks and 5M ranges
    would take an hour to ingest): row for row, it is what `metareg ingest` of the
    world's files writes, derived unit ranges and history included."""
    from bench import jobs
    from metareg.db.engine import make_engine
    from metareg.db.migrate import upgrade
    from metareg.sync.ingest import ingest_files

    blocks, ranges = 120, 1_000  # several batches, and statuses cut 8 and 9 to a block
    files = jobs.programme_files(tmp_path / "files", blocks, ranges)
    ingested, planted = (f"sqlite:///{tmp_path / name}.db" for name in ("ingested", "planted"))
    engine = make_engine(ingested)
    upgrade(engine)
    for registry, path in files.items():
        assert ingest_files(engine, [path], registry).counts.accepted > 0
    engine.dispose()
    engine = make_engine(planted)
    upgrade(engine)
    for registry, records in zip(files, jobs.programme_records(blocks, ranges), strict=True):
        jobs.plant(engine, registry, records, str(files[registry]))
    engine.dispose()

    expected, found = _tables(ingested), _tables(planted)
    assert len(found["actions"]) == blocks and len(found["unit_statuses"]) == ranges
    assert all(row[-1] is not None for row in found["unit_statuses"])  # ranges parsed
    assert found == expected


def test_an_index_the_disk_cannot_hold_twice_is_refused_before_it_is_loaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks run on a copy of an index loaded once: where the disk cannot hold both,
    the figure fails at once with what to do, before the load (at 10M, hours)."""
    loads: list[str] = []
    monkeypatch.setattr(Context, "free_bytes", lambda self: 10**6)
    monkeypatch.setattr(world, "job", lambda target, name, **kw: loads.append(name))
    out = tmp_path / "bench.json"
    with pytest.raises(SystemExit, match="some figures failed"):
        main(["--size", "300", "--only", "checks", "--runs", "1", "--json", str(out)])
    (row, *_) = [r for r in json.loads(out.read_text())["rows"] if r["figure"] == "checks"]
    assert row["status"] == "failed", row
    assert "need about 3.5 MB of disk, 1.0 MB are free" in row["reason"], row
    assert "--only ingest" in row["reason"], row
    assert loads == []  # nothing was loaded
