"""An index loaded from empty is planned as it is, not as it was: on PostgreSQL the
writers analyse the index tables as they grow, so a server that never analyses them
itself (autovacuum off, as on this project's CI) does not leave every current-hash
lookup reading the whole registry through the wrong index (issue 18's 10M load slowed
from about 5,000 to under 1,000 records/s that way)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, bindparam, text

from metareg.index import statistics
from metareg.sync.ingest import ingest_files
from tests.helpers import action, holding, write_jsonl


@pytest.fixture
def unanalysed(engine: Engine) -> Iterator[Engine]:
    """The index tables with autovacuum off, whatever the server's own setting."""
    if engine.dialect.name != "postgresql":
        yield engine
        return
    with engine.begin() as connection:
        for name in statistics.TABLES:
            connection.execute(text(f'ALTER TABLE "{name}" SET (autovacuum_enabled = false)'))
    yield engine
    with engine.begin() as connection:
        for name in statistics.TABLES:
            connection.execute(text(f'ALTER TABLE "{name}" RESET (autovacuum_enabled)'))


def _plan(engine: Engine, uids: list[str], table: str = "holdings", registry: str = "IDN01") -> str:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"EXPLAIN SELECT uid, content_hash FROM {table} "
                "WHERE registry_id = :registry AND uid IN :uids"
            ).bindparams(bindparam("uids", expanding=True)),
            {"uids": uids, "registry": registry},
        )
        return "\n".join(row[0] for row in rows)


def test_an_ingest_that_grows_the_index_leaves_postgresql_planning_lookups_by_identity(
    unanalysed: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = unanalysed
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans these lookups without statistics")
    monkeypatch.setattr(statistics, "BASE_RECORDS", 1_000)
    records = []  # both tables grow together, as in a registry's file
    for n in range(2_000):
        records += [
            holding(f"ACC-{n:05d}", n * 10 + 1, n * 10 + 10),
            holding(f"ACC-{n:05d}-B", n * 10 + 1, n * 10 + 10),
            action(f"A-{n:05d}", n * 10 + 1, n * 10 + 10),
        ]
    report = ingest_files(engine, [write_jsonl(tmp_path / "r.jsonl", records)], "IDN01", 500)
    assert report.counts.accepted == 6_000

    with engine.connect() as connection:
        analysed = dict(
            connection.execute(
                text(
                    "SELECT relname, reltuples FROM pg_class "
                    "WHERE relname IN ('holdings', 'actions', 'record_version')"
                )
            ).all()
        )
        uids = list(connection.execute(text("SELECT uid FROM holdings LIMIT 5")).scalars())
    # Analysed while the ingest ran (a table never analysed has reltuples -1), at a
    # size near what it holds: the last analysis saw most of the load.
    assert analysed["holdings"] >= 2_000
    assert analysed["actions"] >= 1_000
    assert analysed["record_version"] >= 3_000
    plan = _plan(engine, uids)
    assert "uq_holding_identity" in plan, plan


def test_statistics_are_refreshed_only_when_the_index_has_grown_enough(
    unanalysed: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = unanalysed
    monkeypatch.setattr(statistics, "BASE_RECORDS", 100)
    ingest_files(
        engine,
        [
            write_jsonl(
                tmp_path / "r.jsonl",
                [action(f"A-{n}", n * 10 + 1, n * 10 + 10) for n in range(300)],
            )
        ],
        "IDN01",
    )
    postgres = engine.dialect.name == "postgresql"
    # Whatever the ingest left counted, a few more records are below the threshold
    # (100 plus the rows analysed), and nothing written never analyses.
    assert statistics.note_written(engine, "IDN01", {}) is False
    assert statistics.note_written(engine, "IDN01", {"actions": 0}) is False
    assert statistics.note_written(engine, "IDN01", {"actions": 1}) is False
    assert statistics.note_written(engine, "IDN01", {"actions": 10_000}) is postgres
    assert statistics.note_written(engine, "IDN01", {"actions": 1}) is False


def test_a_registry_that_starts_writing_into_a_large_index_is_planned_by_its_own_size(
    unanalysed: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 10M load's fifth registry: the tables as a whole had not doubled since their
    last analysis, so the planner still believed the new registry held no rows and
    read all of them at every lookup, through (registry_id) alone."""
    engine = unanalysed
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans these lookups without statistics")
    monkeypatch.setattr(statistics, "BASE_RECORDS", 1_000)
    big = [action(f"A-{n:05d}", n * 10 + 1, n * 10 + 10) for n in range(8_000)]
    ingest_files(engine, [write_jsonl(tmp_path / "big.jsonl", big)], "IDN01", 1_000)
    with engine.begin() as connection:  # whatever the first load left: analysed now
        connection.execute(text("ANALYZE actions"))
        connection.execute(text("ANALYZE record_version"))
    # A second registry a third the size: the index as a whole grows by a third.
    own = {"party_registry_id": "SEN01", "first_transferring_party_id": "SEN"}
    small = [action(f"B-{n:05d}", n * 10 + 1, n * 10 + 10, **own) for n in range(3_000)]
    report = ingest_files(engine, [write_jsonl(tmp_path / "small.jsonl", small)], "SEN01", 500)
    assert report.counts.accepted == 3_000

    with engine.connect() as connection:
        believed = connection.execute(
            text(
                "SELECT most_common_vals::text FROM pg_stats "
                "WHERE tablename = 'actions' AND attname = 'registry_id'"
            )
        ).scalar_one()
        uids = list(
            connection.execute(
                text("SELECT uid FROM actions WHERE registry_id = 'SEN01' LIMIT 200")
            ).scalars()
        )
    assert "SEN01" in believed, believed
    plan = _plan(engine, uids, table="actions", registry="SEN01")
    assert "uq_action_identity" in plan and "Filter" not in plan, plan


def test_a_load_leaves_the_actions_visible_to_index_only_reads(
    unanalysed: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full check's authorization filters and DC09 sums read only the authorization
    chain index; on PostgreSQL that skips the table only on pages the visibility map
    marks all-visible, which only VACUUM sets (at 10M blocks, without it, the
    authorization pass read the table for every action of every key: 85 s)."""
    engine = unanalysed
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no visibility map: its index-only reads never read the table")
    monkeypatch.setattr(statistics, "BASE_RECORDS", 1_000)
    records = [action(f"A-{n:05d}", n * 10 + 1, n * 10 + 10) for n in range(8_000)]
    report = ingest_files(engine, [write_jsonl(tmp_path / "r.jsonl", records)], "IDN01", 500)
    assert report.counts.accepted == 8_000

    with engine.connect() as connection:
        visible, pages = connection.execute(
            text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'actions'")
        ).one()
    # The last vacuum came at most a tenth of the rows (plus 1,000) before the end.
    assert pages > 0 and visible >= 0.75 * pages, (visible, pages)
