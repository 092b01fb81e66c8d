"""The full check's screened authorization pass (`passes.authorization.full_pass`) must
find exactly what the inline pass found: `InlineAuthorizations` on every current
action, then its `finish` (`keys_pass` over the keys judged whole, DC14 over the
others).

Hypothesis writes random worlds into a small space where every reason is frequent:
authorizations with and without a timeframe (either bound), purposes, party and
entity lists, quantities, revoked, missing, dated before or after the actions,
several versions reported by several registries (some not acting for the authorizing
Party); actions with and without an authorization id, of every type, purpose, party
and entity, first transfers with and without a buyer. The bench generator's world is
compared too, and its planted DC07-DC09 conflicts must all be found.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, inspect, select

from bench.generator import generate
from metareg.db.tables import metadata
from metareg.detection.passes import authorization
from metareg.detection.read.columns import action_columns, stream
from metareg.findings import Finding
from metareg.index.writer import IndexWriter
from metareg.records.operations import Incoming
from metareg.registries import ensure_registry
from metareg.sync.ingest import ingest_files

REGISTRIES = ("IDN01", "JPN01", "KOR01")
APPROACHES = ("CA0001", "CA0002")
AUTHORIZATION_IDS = ("AUTH-1", "AUTH-2", "AUTH-3")
ACTION_TYPES = (
    "Issuance",
    "First transfer",
    "First transfer",
    "Transfer",
    "Acquisition",
    "Use",
    "Use",
    "Cancellation",
    "Voluntary cancellation",
)
PARTIES = ("JPN", "KOR", "IDN")


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def authorizations(draw: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "record_type": "authorization",
        "authorization_id": draw(st.sampled_from(AUTHORIZATION_IDS)),
        "version": draw(st.integers(1, 3)),
        "authorization_date": draw(st.sampled_from(("2023-03-01", "2024-02-01", "2024-03-01"))),
        "authorizing_party_id": draw(st.sampled_from(("IDN", "IDN", "JPN"))),
        "cooperative_approach_id": draw(st.sampled_from(APPROACHES)),
        "metric": "GHG",
        "status": draw(st.sampled_from(("active", "active", "revoked"))),
    }
    optional: dict[str, Any] = {
        "authorized_quantity": st.integers(5, 50),
        "purposes": st.sampled_from(
            ([], ["NDC"], ["OIMP"], ["IMP"], ["OP"], ["NDC", "OIMP"], ["OMGE"])
        ),
        "authorized_party_ids": st.sampled_from(([], ["JPN"], ["JPN", "KOR"], ["IDN"])),
        "authorized_entity_ids": st.sampled_from((["E1"], ["E1", "E2"])),
        "timeframe_start": st.integers(2020, 2024),
        "timeframe_end": st.integers(2021, 2025),
    }
    for name, strategy in optional.items():
        value = draw(_maybe(strategy))
        if value is not None:
            record[name] = value
    return record


@st.composite
def actions(draw: Any, number: int) -> dict[str, Any]:
    first = draw(st.integers(1, 200))
    record: dict[str, Any] = {
        "record_type": "action",
        "action_id": f"A{number}",
        "action_date": draw(st.sampled_from(("2024-01-15", "2024-03-01", "2024-06-01"))),
        "action_type": draw(st.sampled_from(ACTION_TYPES)),
        "cooperative_approach_id": draw(st.sampled_from(APPROACHES)),
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "first_id": first,
        "last_id": first + draw(st.integers(0, 20)),
        "vintage": draw(st.integers(2019, 2026)),
        "metric": "GHG",
    }
    optional: dict[str, Any] = {
        "authorization_id": st.sampled_from((*AUTHORIZATION_IDS, "AUTH-1", "MISSING")),
        "purpose": st.sampled_from(("NDC", "OIMP", "OMGE", "other")),
        "acquiring_party_id": st.sampled_from(PARTIES),
        "using_party_id": st.sampled_from(PARTIES),
        "using_entity_id": st.sampled_from(("E1", "E2")),
        "action_subtype": st.sampled_from(("Issuance", "First transfer to another Party")),
    }
    for name, strategy in optional.items():
        if draw(st.integers(0, 4)) > 0:
            record[name] = draw(strategy)
    return record


@st.composite
def worlds(draw: Any) -> list[tuple[str, dict[str, Any]]]:
    found = [
        (draw(st.sampled_from(REGISTRIES)), record)
        for record in draw(st.lists(authorizations(), max_size=8))
    ]
    count = draw(st.integers(0, 40))
    found += [(draw(st.sampled_from(REGISTRIES)), draw(actions(n))) for n in range(count)]
    return found


def _identity(finding: Finding) -> tuple[Any, ...]:
    return (
        finding.rule,
        finding.evidence,
        finding.message,
        finding.cooperative_approach_id,
        finding.party_registry_id,
        finding.first_id,
        finding.last_id,
        finding.scope,
    )


def inline_findings(connection: Connection) -> Counter[tuple[Any, ...]]:
    """What the full check found before: the inline pass given every current action."""
    inline = authorization.InlineAuthorizations(connection)
    found: list[Finding] = []
    every_action = select(*action_columns())
    for record in stream(connection, every_action):
        found += inline(record)
    found += inline.finish(connection)
    return Counter(map(_identity, found))


def screened_findings(connection: Connection) -> Counter[tuple[Any, ...]]:
    return Counter(map(_identity, authorization.full_pass(connection)))


def _clear(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_full_pass_equals_the_inline_pass(engine: Engine, world: list[Any]) -> None:
    _clear(engine)
    with engine.begin() as connection:
        for registry in REGISTRIES:
            ensure_registry(connection, registry)
        for registry in REGISTRIES:
            IndexWriter(connection, registry, "test").apply(
                [Incoming.from_record(record, "") for r, record in world if r == registry]
            )
    with engine.connect() as connection:
        assert screened_findings(connection) == inline_findings(connection)


def test_full_pass_reads_an_exceeded_key_whole(engine: Engine) -> None:
    """A key over its quantity is judged by `keys_pass` (running totals), the others
    by their filters; a key with no current authorization raises DC07 on each action
    that needs one, and an action naming none raises DC07 too."""
    base = {
        "record_type": "action",
        "action_date": "2024-01-15",
        "cooperative_approach_id": "CA0001",
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "vintage": 2023,
        "metric": "GHG",
        "acquiring_party_id": "JPN",
    }
    records = [
        {
            "record_type": "authorization",
            "authorization_id": "AUTH-1",
            "authorization_date": "2023-03-01",
            "authorizing_party_id": "IDN",
            "cooperative_approach_id": "CA0001",
            "authorized_quantity": 15,
            "purposes": ["NDC"],
            "authorized_party_ids": ["JPN"],
        },
        {**base, "action_id": "FT-1", "action_type": "First transfer", "first_id": 1,
         "last_id": 10, "authorization_id": "AUTH-1"},
        {**base, "action_id": "FT-2", "action_type": "First transfer", "first_id": 11,
         "last_id": 20, "authorization_id": "AUTH-1", "action_date": "2024-02-01"},
        {**base, "action_id": "FT-3", "action_type": "First transfer", "first_id": 21,
         "last_id": 30, "authorization_id": "NOPE"},
        {**base, "action_id": "FT-4", "action_type": "First transfer", "first_id": 31,
         "last_id": 40},
        {**base, "action_id": "TR-1", "action_type": "Transfer", "first_id": 41,
         "last_id": 50},
    ]  # fmt: skip
    with engine.begin() as connection:
        ensure_registry(connection, "IDN01")
        IndexWriter(connection, "IDN01", "test").apply(
            [Incoming.from_record(r, "") for r in records]
        )
    with engine.connect() as connection:
        found = sorted((f.rule, f.evidence[0][2]) for f in authorization.full_pass(connection))
        assert found == [("DC07", "FT-3"), ("DC07", "FT-4"), ("DC09", "FT-2")]
        assert screened_findings(connection) == inline_findings(connection)


@pytest.fixture(scope="module")
def bench_world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("world"), 2_000)


def test_full_pass_on_the_bench_world(engine: Engine, bench_world: Any) -> None:
    for registry, path in sorted(bench_world.files.items()):
        report = ingest_files(engine, [Path(path)], registry)
        assert report.counts.quarantined == 0, report.problems
    with engine.connect() as connection:
        screened = screened_findings(connection)
        assert screened == inline_findings(connection)
    # The world raises DC07-DC09 only where it planted them: a first transfer naming a
    # missing authorization (DC07), a use for OIMP (DC08), a vintage before the
    # timeframe (DC09, on the first transfer and on any use of the block).
    found = Counter(rule for rule, *_ in screened.elements())
    planted = bench_world.planted
    assert all(planted[rule] > 0 for rule in ("DC07", "DC08", "DC09")), planted
    assert (found["DC07"], found["DC08"]) == (planted["DC07"], planted["DC08"]), found
    assert found["DC09"] >= planted["DC09"], found


def test_the_authorization_index_covers_the_filters(engine: Engine) -> None:
    """Migration 0007 (and tables.py) give the index every column the filters read."""
    found = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("actions")}
    assert found["ix_action_authorization_chain"] == [
        "cooperative_approach_id",
        "authorization_id",
        "action_type",
        "action_date",
        "first_id",
        "last_id",
        "vintage",
        "purpose",
        "acquiring_party_id",
        "using_party_id",
    ]
