"""Range queries at the boundaries: touching is not overlapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from metareg.db.upsert import json_text
from metareg.detection.read import blocks
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


def test_the_incremental_checks_hulls_are_read_from_the_block_index_alone(
    loaded: Engine,
) -> None:
    """Migration 0026: the block indexes hold `last_id`, so the hull of the blocks
    meeting a range (least first_id, greatest last_id) is read from the index alone,
    and the hulls and the blocks meeting them are what they were."""
    if loaded.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's plans depend on its statistics and visibility map")
    with loaded.connect() as c:
        for table in ("actions", "holdings"):
            statement = blocks._PAIR_HULL_SQL[(table, False)].compile(dialect=c.dialect)
            plan = " ".join(
                row[3]
                for row in c.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement.string}",
                    (json_text([["CA0001", "IDN01", 0, 150, 155]]),),
                )
            )
            index = {"actions": "ix_action_block", "holdings": "ix_holding_block"}[table]
            assert f"USING COVERING INDEX {index}" in plan, plan
        # And what they find is what they found before: the blocks meeting [150, 155].
        spans = blocks.max_spans(c)
        wanted = [("CA0001", "IDN01", 150, 155)]
        assert blocks.hulls_of_pairs(c, wanted, spans) == {wanted[0]: (101, 200)}
        found = blocks.blocks_meeting_pairs(c, [("CA0001", "IDN01", 101, 200)], spans)
        assert sorted(r.uid for r in found[("CA0001", "IDN01")]) == sorted(
            ["B", "2024-12-31|H|CA0001-IDN01-IDN-150-160-2023"]
        )
