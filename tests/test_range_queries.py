"""Range queries at the boundaries: touching is not overlapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from metareg.index import query
from metareg.sync.ingest import ingest_files
from tests.helpers import action, holding, write_jsonl


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    records = [
        action("A", 1, 100),
        action("B", 101, 200),
        action("LONG", 1000, 500_000),
        action("OTHER-CA", 1, 1000, cooperative_approach_id="CA0002"),
        action("OTHER-REG", 1, 1000, party_registry_id="IDN02"),
        holding("H", 150, 160),
    ]
    ingest_files(engine, [write_jsonl(tmp_path / "r.jsonl", records)], "IDN01")
    return engine


def ids(engine: Engine, first: int, last: int) -> list[str]:
    with engine.connect() as c:
        return sorted(r["record_id"] for r in query.intersecting(c, "CA0001", "IDN01", first, last))


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (100, 100, ["A"]),  # last serial of A
        (101, 101, ["B"]),  # first serial of B: A touches but does not overlap
        (100, 101, ["A", "B"]),
        (201, 999, []),  # the gap between B and LONG
        (999, 1000, ["LONG"]),
        (499_999, 600_000, ["LONG"]),  # far from LONG's start: the span bound must reach it
        (155, 155, ["2024-12-31|H|CA0001-IDN01-IDN-150-160-2023", "B"]),
        (500_001, 10**9, []),
    ],
)
def test_intersection_boundaries(
    loaded: Engine, first: int, last: int, expected: list[str]
) -> None:
    assert ids(loaded, first, last) == sorted(expected)


def test_covering_a_single_serial(loaded: Engine) -> None:
    with loaded.connect() as c:
        assert [r["record_id"] for r in query.covering(c, "CA0001", "IDN01", 1)] == ["A"]
        assert query.covering(c, "CA0009", "IDN01", 1) == []
