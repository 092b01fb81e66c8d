"""Smoke test of `python -m bench` at its smallest size: not a timed test.

It runs every figure end to end on a tiny seeded world and checks what a reader of
docs/benchmarks.md relies on: the table and the JSON list every figure of issue #7,
each either measured (with one value per run) or marked as waiting for the module it
needs; the loads really loaded the world; and the full check finds every kind of
conflict the generator planted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.figures import FIGURES
from bench.generator import RULES, generate

SIZE = 2_000  # seeded: plants at least one conflict of every DC rule


@pytest.mark.slow
def test_smallest_size_produces_table_and_json_with_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    main(["--size", str(SIZE), "--runs", "1", "--json", str(out)])

    table = capsys.readouterr().out
    document = json.loads(out.read_text())
    results = document["results"]
    assert document["size"] == SIZE
    assert document["environment"]["cores"] >= 1
    assert {r["figure"].split(":")[-1] for r in results} >= set(FIGURES) - {"postgres"}
    for result in results:
        assert result["figure"] in table or result["figure"].startswith("postgres")
        if result["status"] == "measured":
            assert len(result["values"]) == 1, result
            assert result["median"] is not None and result["median"] >= 0, result
        else:
            assert result["note"], result  # says what it waits for, or why it was skipped

    by_metric = {(r["figure"], r["metric"]): r for r in results}
    ingest = by_metric[("ingest", "metareg ingest")]
    assert ingest["extra"]["records"] > 3 * SIZE  # about 3.5 records a block
    check = by_metric.get(("full_check", "full check, first"))
    if check is not None and check["status"] == "measured":
        planted = check["extra"]["planted"]
        assert set(planted) == set(RULES)
        found = check["extra"]["open_alerts"]
        assert not [rule for rule in planted if not found.get(rule)], found


def test_generator_is_seeded_and_plants_every_rule(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", SIZE, seed=3)
    again = generate(tmp_path / "b", SIZE, seed=3)
    assert first.planted == again.planted and set(first.planted) == set(RULES)
    for registry, path in first.files.items():
        assert Path(path).read_bytes() == Path(again.files[registry]).read_bytes()
    assert 3 * SIZE < first.total_records < 4 * SIZE
