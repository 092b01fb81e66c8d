"""DC03's stored unit ranges and its screened pass.

The writer stores each judged issuance's parsed underlying units (and clears them when
a correction or withdrawal takes them away); migration 0006 fills them in for an
existing index; they never show in a record. The screened pass must give exactly the
findings of the exact check over every issuance: on randomized issuances (overlapping,
touching, nested, other batches and registries, unparsable and huge serials) and on
the bench world.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from bench.generator import generate
from metareg.db import migrate
from metareg.db.tables.index import UNIT_RANGE_COLUMNS, Action, RecordVersion
from metareg.detection.passes import units
from metareg.detection.prefilter import units as prefilter
from metareg.detection.read import blocks as read
from metareg.detection.rules import dc03_underlying_unit_reuse as dc03
from metareg.findings import Finding
from metareg.index import query
from metareg.index.unitrange import unit_columns
from metareg.sync.ingest import ingest_files
from tests.detection.conftest import Index
from tests.helpers import action, withdrawal, write_jsonl

VERRA = "19385-{}-{}-VCS-VCU-1507-VER-{}-14-1340-01012020-31122020-1"
_actions = Action
_history = RecordVersion


def issuance(action_id: str, first: int, last: int, **extra: object) -> dict[str, Any]:
    return action(action_id, first, last, "Issuance", **extra)


def stored_units(engine: Engine) -> dict[str, tuple[Any, Any, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                _actions.c.uid,
                _actions.c.underlying_prefix,
                _actions.c.underlying_first,
                _actions.c.underlying_last,
            )
        )
        return {uid: (prefix, first, last) for uid, prefix, first, last in rows}


def exact(engine: Engine, underlying: set[str] | None = None) -> list[Finding]:
    with engine.connect() as connection:
        return sorted(
            dc03.check_issuances(read.issuances(connection, underlying)),
            key=lambda f: f.fingerprint,
        )


def screened(engine: Engine, underlying: set[str] | None = None) -> list[Finding]:
    with engine.connect() as connection:
        return sorted(units.find(connection, underlying), key=lambda f: f.fingerprint)


# -- the stored columns -------------------------------------------------------------------


def test_units_are_stored_corrected_and_cleared(index: Index) -> None:
    vcs = {"underlying_registry_id": "VCS"}
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 100, first_unit_id=VERRA.format(11, 20, "ET"), **vcs),
        issuance("ISS-2", 101, 200, first_unit_id="not a serial", **vcs),
        issuance("ISS-3", 201, 300, first_unit_id=VERRA.format(1, 5, "ET"), **vcs),
        issuance("ISS-4", 301, 400, first_unit_id=VERRA.format(1, 5, "ET")),  # no registry
        action(
            "TR-1",
            1,
            10,
            "Transfer",
            acquiring_party_id="JPN",
            first_unit_id=VERRA.format(1, 5, "ET"),
            **vcs,
        ),
        issuance("ISS-5", 401, 500),
    )
    prefix = "19385-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
    units = stored_units(index.engine)
    assert units["ISS-1"] == (prefix, 11, 20)
    assert units["ISS-3"] == (prefix, 1, 5)
    for uid in ("ISS-2", "ISS-4", "TR-1", "ISS-5"):
        assert units[uid] == (None, None, None), uid

    # A correction re-derives them; one that drops the units clears them.
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 100, first_unit_id=VERRA.format(30, 40, "ET"), **vcs),
        issuance("ISS-2", 101, 200, first_unit_id=VERRA.format(7, 9, "ET"), **vcs),
        issuance("ISS-3", 201, 300),
    )
    units = stored_units(index.engine)
    assert units["ISS-1"] == (prefix, 30, 40)
    assert units["ISS-2"] == (prefix, 7, 9)
    assert units["ISS-3"] == (None, None, None)
    index.put("IDN01", withdrawal({"record_type": "action", "action_id": "ISS-1"}))
    assert "ISS-1" not in stored_units(index.engine)


def test_stored_units_never_show_in_a_record(index: Index) -> None:
    record = issuance(
        "ISS-1", 1, 100, underlying_registry_id="VCS", first_unit_id=VERRA.format(1, 9, "ET")
    )
    index.put("IDN01", record)
    with index.engine.connect() as connection:
        [found] = query.intersecting(connection, "CA0001", "IDN01", 1, 100)
        assert not UNIT_RANGE_COLUMNS & set(found["record"])
        assert found["record"]["first_unit_id"] == record["first_unit_id"]
        [payload] = connection.execute(select(_history.c.payload)).scalars()
    assert payload is not None and "underlying_prefix" not in payload
    # The content hash is the record's: the same record again changes nothing.
    index.put("IDN01", record)
    with index.engine.connect() as connection:
        assert len(connection.execute(select(_history.c.id)).all()) == 1


def test_migration_fills_in_an_existing_index(index: Index) -> None:
    vcs = {"underlying_registry_id": "VCS"}
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 100, first_unit_id=VERRA.format(11, 20, "ET"), **vcs),
        issuance("ISS-2", 101, 200, first_unit_id="junk", last_unit_id="more junk", **vcs),
        issuance(
            "ISS-3",
            201,
            300,
            first_unit_id=VERRA.format(1, 5, "KE"),
            last_unit_id=VERRA.format(6, 9, "KE"),
            **vcs,
        ),
        action(
            "TR-1",
            1,
            10,
            "Transfer",
            acquiring_party_id="JPN",
            first_unit_id=VERRA.format(1, 5, "ET"),
            **vcs,
        ),
    )
    expected = stored_units(index.engine)
    assert expected["ISS-3"][1:] == (1, 9)
    config = migrate.alembic_config(index.engine)
    # 0006 and the one revision over it on its branch (0024, the id in its index)
    command.downgrade(config, "0006_action_unit_range@-2")
    try:
        with index.engine.connect() as connection:
            columns = connection.execute(select(text("*")).select_from(_actions)).keys()
        assert not UNIT_RANGE_COLUMNS & set(columns)
    finally:
        migrate.upgrade(index.engine)
    assert stored_units(index.engine) == expected
    with index.engine.connect() as connection:
        rows = connection.execute(select(_actions)).mappings().all()
    for row in rows:
        assert (row["underlying_prefix"], row["underlying_first"], row["underlying_last"]) == (
            unit_columns(row)
        )
    assert exact(index.engine) == screened(index.engine)


# -- the screened pass equals the exact check ----------------------------------------------

SMALL = st.integers(0, 40)
NUMBERS = st.one_of(
    SMALL,
    SMALL,
    SMALL,
    st.integers(10**18 - 40, 10**18 - 1),  # the largest a serial may hold
    st.integers(10**18, 10**18 + 5),  # too long: unparsable
)


@st.composite
def unit_ids(draw: st.DrawFn) -> dict[str, Any]:
    """The underlying units of one action: Verra blocks of two batches, a generic
    serial, unparsable text, or none."""
    kind = draw(st.sampled_from(["verra", "verra", "verra", "range", "generic", "junk", "none"]))
    if kind == "none":
        return {}
    if kind == "junk":
        first = draw(st.sampled_from(["??", "junk"]))
        last = draw(st.sampled_from([None, first, "??", "junk"]))
        return {"first_unit_id": first, "last_unit_id": last}
    a, b = sorted((draw(NUMBERS), draw(NUMBERS)))
    country = draw(st.sampled_from(["ET", "ET", "ET", "KE"]))
    if kind == "verra":
        serial = VERRA.format(a, b, country)
        return {"first_unit_id": serial, "last_unit_id": draw(st.sampled_from([None, serial]))}
    if kind == "range":  # first and last given as single units (maybe reversed)
        first, last = draw(st.permutations([a, b]))
        return {
            "first_unit_id": VERRA.format(first, first, country),
            "last_unit_id": VERRA.format(last, last, country),
        }
    return {"first_unit_id": f"BATCH-{country}-{a}", "last_unit_id": f"BATCH-{country}-{b}"}


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    by_registry: dict[str, list[dict[str, Any]]] = {"IDN01": [], "JPN01": []}
    for n in range(draw(st.integers(0, 20))):
        first = draw(st.integers(1, 300))
        record = action(
            f"A-{n}",
            first,
            first + draw(st.integers(0, 10)),
            draw(st.sampled_from(["Issuance", "Issuance", "Issuance", "Issuance", "Transfer"])),
            action_date=draw(st.sampled_from(["2024-01-01", "2024-02-01"])),
            acquiring_party_id="JPN",
            **{k: v for k, v in draw(unit_ids()).items() if v is not None},
        )
        underlying = draw(st.sampled_from(["VCS", "VCS", "VCS", "GCC", None]))
        if underlying is not None:
            record["underlying_registry_id"] = underlying
        by_registry[draw(st.sampled_from(sorted(by_registry)))].append(record)
    return by_registry


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in ("actions", "holdings", "record_version", "block_span"):
            connection.execute(text(f"DELETE FROM {table}"))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_screened_pass_equals_the_exact_check(
    engine: Engine, tmp_path: Path, world: dict[str, list[dict[str, Any]]]
) -> None:
    _empty(engine)
    files = itertools.count()
    for registry, records in world.items():
        if records:
            path = write_jsonl(tmp_path / f"w{next(files)}.jsonl", records)
            assert ingest_files(engine, [path], registry).counts.quarantined == 0
    expected = exact(engine)
    event(f"findings: {'some' if expected else 'none'}")
    assert screened(engine) == expected
    for underlying in ({"VCS"}, {"GCC"}, {"VCS", "GCC", "OTHER"}, set()):
        assert screened(engine, underlying) == exact(engine, underlying)


def test_screened_pass_sees_a_row_written_without_its_units(index: Index) -> None:
    """A judged row that parses but has no stored range (as a number too large for the
    columns would) sends its whole underlying registry to the exact check."""
    vcs = {"underlying_registry_id": "VCS"}
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 100, first_unit_id=VERRA.format(11, 20, "ET"), **vcs),
        issuance("ISS-2", 101, 200, first_unit_id=VERRA.format(15, 30, "ET"), **vcs),
        issuance("ISS-3", 201, 300, first_unit_id=VERRA.format(50, 60, "ET"), **vcs),
    )
    with index.engine.begin() as connection:
        connection.execute(
            _actions.update()
            .where(_actions.c.uid.in_(["ISS-2", "ISS-3"]))
            .values(underlying_prefix=None, underlying_first=None, underlying_last=None)
        )
    with index.engine.connect() as connection:
        ids, whole = prefilter.candidate_ids(connection)
    assert whole == {"VCS"} and ids == []
    [finding] = screened(index.engine)
    assert finding == exact(index.engine)[0]


def test_screened_pass_on_the_bench_world(engine: Engine, tmp_path: Path) -> None:
    manifest = generate(tmp_path / "world", 2_000)
    for registry, path in manifest.files.items():
        assert ingest_files(engine, [Path(path)], registry).counts.quarantined == 0
    expected = exact(engine)
    assert expected, "the bench world plants DC03 conflicts"
    assert screened(engine) == expected
    assert screened(engine, {"VCS"}) == expected


@pytest.mark.parametrize("underlying", [None, {"VCS"}])
def test_screened_pass_on_an_empty_index(engine: Engine, underlying: set[str] | None) -> None:
    assert screened(engine, underlying) == [] == exact(engine, underlying)
