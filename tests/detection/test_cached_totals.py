"""The authorization check's fast reads must answer exactly what the plain reads answer.

`cached_totals.first_transferred` remembers an authorization's first-transferred units
per connection while SQLite reports no write; `authorizations.versions_of_key` reads one
key with a prebuilt statement. Hypothesis writes random batches (new first transfers,
corrections, withdrawals, authorizations), committed either by another engine (SQLite's
`data_version` path) or on the reading connection itself (`total_changes`), and after
every batch both are compared with `authorizations`' exact SQL on every key, from two
readers of one engine (which share its memory) that stay open throughout, and from a
connection new to it. The bench generator's world is compared too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, select

from bench.generator import generate
from metareg.db.engine import make_engine
from metareg.db.tables import metadata
from metareg.detection.read import authorizations, cached_totals
from metareg.detection.read.columns import actions
from metareg.detection.rules.versions import Versions
from metareg.index.writer import IndexWriter
from metareg.records.operations import Incoming, Withdrawal
from metareg.registries import ensure_registry
from metareg.sync.ingest import ingest_files

REGISTRIES = ("IDN01", "JPN01")
APPROACHES = ("CA0001", "CA0002")
AUTHORIZATION_IDS = ("AUTH-1", "AUTH-2")
KEYS = [(ca, aid) for ca in APPROACHES for aid in (*AUTHORIZATION_IDS, "MISSING")]


@st.composite
def operations(draw: Any) -> tuple[str, Any]:
    registry = draw(st.sampled_from(REGISTRIES))
    number = draw(st.integers(0, 12))  # few ids: later batches correct earlier records
    if draw(st.integers(0, 5)) == 0:
        return registry, Withdrawal("action", f"{registry}:A{number}")
    if draw(st.integers(0, 4)) == 0:
        record: dict[str, Any] = {
            "record_type": "authorization",
            "authorization_id": draw(st.sampled_from(AUTHORIZATION_IDS)),
            "version": draw(st.integers(1, 3)),
            "authorization_date": "2023-03-01",
            "authorizing_party_id": draw(st.sampled_from(("IDN", "JPN"))),
            "cooperative_approach_id": draw(st.sampled_from(APPROACHES)),
            "authorized_quantity": draw(st.integers(5, 80)),
        }
        return registry, record
    first = draw(st.integers(1, 200))
    record = {
        "record_type": "action",
        "action_id": f"A{number}",
        "action_date": draw(st.sampled_from(("2024-01-15", "2024-03-01"))),
        "action_type": draw(st.sampled_from(("First transfer", "First transfer", "Use"))),
        "cooperative_approach_id": draw(st.sampled_from(APPROACHES)),
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "first_id": first,
        "last_id": first + draw(st.integers(0, 20)),
        "vintage": 2024,
        "authorization_id": draw(st.sampled_from(AUTHORIZATION_IDS)),
    }
    return registry, record


def _clear(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))
        for registry in REGISTRIES:
            ensure_registry(connection, registry)


def _write(connection: Connection, batch: list[tuple[str, Any]]) -> None:
    for registry in REGISTRIES:
        ops = [
            op if isinstance(op, Withdrawal) else Incoming.from_record(op, "")
            for r, op in batch
            if r == registry
        ]
        IndexWriter(connection, registry, "test").apply(ops)


def assert_same_as_exact_reads(connection: Connection) -> None:
    for ca, aid in KEYS:
        exact = authorizations.first_transferred(connection, ca, aid)
        assert cached_totals.first_transferred(connection, ca, aid) == exact
        assert cached_totals.first_transferred(connection, ca, aid) == exact  # remembered
        assert_same_versions(connection, ca, aid)


def assert_same_versions(connection: Connection, ca: str, aid: str) -> None:
    """The same rows (`authorization_versions` leaves their order to the database), the
    same choice."""
    versions = authorizations.authorization_versions(connection, [(ca, aid)]).get((ca, aid), [])
    found = authorizations.versions_of_key(connection, ca, aid)
    assert sorted(found) == sorted(versions)
    assert Versions.of(found) == Versions.of(versions)


@pytest.fixture
def writer_engine(db_url: str) -> Any:
    """A second engine on the same database: its commits come from another connection."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(
        st.tuples(st.booleans(), st.lists(operations(), min_size=1, max_size=6)),
        min_size=1,
        max_size=5,
    )
)
def test_remembered_totals_follow_every_write(
    engine: Engine, writer_engine: Engine, batches: list[tuple[bool, list[Any]]]
) -> None:
    _clear(engine)
    # Two readers of one engine share its memory: a sum one remembered must not reach
    # the other after a write only the other can see.
    with engine.connect() as reader, engine.connect() as other:
        assert_same_as_exact_reads(reader)
        assert_same_as_exact_reads(other)
        for number, (on_reader, batch) in enumerate(batches):
            first, second = (reader, other) if number % 2 else (other, reader)
            if on_reader:
                _write(reader, batch)
                assert_same_as_exact_reads(reader)  # its own uncommitted writes
                reader.commit()
            else:
                with writer_engine.begin() as connection:
                    _write(connection, batch)
            with engine.connect() as fresh:  # a connection new to the memory knows nothing
                assert_same_as_exact_reads(fresh)
                fresh.invalidate()  # so the next one is new too
            assert_same_as_exact_reads(first)
            assert_same_as_exact_reads(second)
        reader.rollback()
        other.rollback()


def _first_transfer(number: int, first: int, last: int) -> tuple[str, dict[str, Any]]:
    record = {
        "record_type": "action",
        "action_id": f"A{number}",
        "action_date": "2024-01-15",
        "action_type": "First transfer",
        "cooperative_approach_id": "CA0001",
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "first_id": first,
        "last_id": last,
        "vintage": 2024,
        "authorization_id": "AUTH-1",
    }
    return "IDN01", record


def test_a_new_connection_does_not_trust_what_others_remembered(
    engine: Engine, writer_engine: Engine
) -> None:
    _clear(engine)
    with writer_engine.begin() as connection:
        _write(connection, [_first_transfer(1, 1, 10)])
    with engine.connect() as reader, engine.connect() as other:
        assert cached_totals.first_transferred(reader, "CA0001", "AUTH-1") == 10
        assert cached_totals.first_transferred(other, "CA0001", "AUTH-1") == 10
        with writer_engine.begin() as connection:
            _write(connection, [_first_transfer(2, 11, 15)])
        with engine.connect() as fresh:  # opened after the write: cannot know of it
            assert cached_totals.first_transferred(fresh, "CA0001", "AUTH-1") == 15
        assert cached_totals.first_transferred(other, "CA0001", "AUTH-1") == 15
        assert cached_totals.first_transferred(reader, "CA0001", "AUTH-1") == 15
        reader.rollback()
        other.rollback()


def test_remembered_totals_on_the_bench_world(engine: Engine, tmp_path: Path) -> None:
    world = generate(tmp_path / "world", 2_000)
    for registry, path in sorted(world.files.items()):
        report = ingest_files(engine, [Path(path)], registry)
        assert report.counts.quarantined == 0, report.problems
    with engine.connect() as connection:
        keys = connection.execute(
            select(actions.c.cooperative_approach_id, actions.c.authorization_id)
            .where(actions.c.authorization_id.is_not(None))
            .distinct()
        ).all()
        assert keys
        for ca, aid in sorted(keys):
            exact = authorizations.first_transferred(connection, ca, aid)
            for _ in range(2):
                assert cached_totals.first_transferred(connection, ca, aid) == exact
            assert_same_versions(connection, ca, aid)
