"""An incremental check must reach the result of a full check.

Hypothesis writes random histories (new records, corrections, withdrawals, newer
holding snapshots, authorizations and their dated versions from registries acting or
not for the authorizing Party, a registry gaining or losing an `acts_for`, a registry
only configured until it has records or completes a sync, checks at moving dates)
into a small serial space where conflicts are frequent; the index is checked
incrementally after every step; at the end a full check of the same index must find
nothing to open, reopen, resolve or rewrite.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from metareg.alerts import store
from metareg.checks import in_scope
from metareg.checks.runner import run_checks
from metareg.db.engine import make_engine
from metareg.detection.read import authorizations as read_authorizations
from metareg.detection.read import blocks as read_blocks
from metareg.index.writer import IndexWriter
from metareg.records.operations import Incoming, Operation, Withdrawal
from metareg.registries import RegistryConfig, ensure_registry, store_configured
from metareg.sync import state as sync_state

REGISTRIES = ("IDN01", "JPN01", "MNG01")
DATES = ("2024-01-15", "2024-03-01", "2024-06-01", "2024-09-01", "2024-12-31")
CHECK_DATES = (date(2024, 3, 20), date(2024, 7, 1), date(2025, 1, 1))
ACTION_TYPES = (
    "Issuance",
    "First transfer",
    "Transfer",
    "Acquisition",
    "Use",
    "Cancellation",
    "Voluntary cancellation",
)
UNITS = (None, ("JCM", "JCM-ID-001-10", None), ("JCM", "JCM-ID-008-20", None), ("GCC", "P", "Q"))


@st.composite
def blocks(draw: Any) -> dict[str, Any]:
    first = draw(st.integers(1, 30))
    return {
        "cooperative_approach_id": draw(st.sampled_from(("CA0001", "CA0001", "CA0002"))),
        "party_registry_id": "IDN01",
        "first_transferring_party_id": draw(st.sampled_from(("IDN", "IDN", "IDN", "MNG"))),
        "first_id": first,
        "last_id": first + draw(st.integers(0, 8)),
        "vintage": draw(st.sampled_from((2023, 2023, 2024))),
        "metric": "GHG",
    }


@st.composite
def actions(draw: Any) -> dict[str, Any]:
    record = {
        "record_type": "action",
        "action_id": f"A{draw(st.integers(0, 7))}",
        "action_date": draw(st.sampled_from(DATES)),
        "action_type": draw(st.sampled_from(ACTION_TYPES)),
        **draw(blocks()),
    }
    optional = {
        "authorization_id": st.sampled_from(("AUTH-1", "AUTH-1", "AUTH-2")),
        "acquiring_party_id": st.sampled_from(("JPN", "JPN", "IDN", "KOR")),
        "transferring_party_id": st.sampled_from(("IDN", "IDN", "JPN")),
        "purpose": st.sampled_from(("NDC", "OIMP", "OMGE")),
        "using_party_id": st.sampled_from(("JPN", "KOR")),
        "using_entity_id": st.sampled_from(("E1", "E2")),
        "quantity_tco2e": st.integers(1, 10),
        "mitigation_type": st.sampled_from(("Removals", "Emission reductions")),
    }
    # Mostly the fields RECORDS.md requires for the type (so transfers find their
    # acquisitions), sometimes not (DC07 without an authorization id).
    required = {
        "First transfer": ("authorization_id", "acquiring_party_id"),
        "Transfer": ("acquiring_party_id",),
        "Acquisition": ("transferring_party_id",),
        "Use": ("authorization_id", "purpose"),
        "Cancellation": ("authorization_id", "purpose"),
        "Voluntary cancellation": ("purpose",),
    }.get(record["action_type"], ())
    for name, strategy in optional.items():
        wanted = name in required and draw(st.integers(0, 9)) > 0
        if wanted or draw(st.integers(0, 3)) == 0:
            record[name] = draw(strategy)
    units = draw(st.sampled_from(UNITS))
    if units is not None and record["action_type"] == "Issuance":
        record["underlying_registry_id"], record["first_unit_id"] = units[0], units[1]
        if units[2]:
            record["last_unit_id"] = units[2]
    return record


@st.composite
def holdings(draw: Any) -> dict[str, Any]:
    return {
        "record_type": "holding",
        "as_of": draw(st.sampled_from(("2024-06-30", "2024-12-31"))),
        "account_id": draw(st.sampled_from(("H1", "H2"))),
        "account_type": draw(st.sampled_from(("holding", "government-holding", "cancellation"))),
        **draw(blocks()),
    }


@st.composite
def authorizations(draw: Any) -> dict[str, Any]:
    return {
        "record_type": "authorization",
        "authorization_id": draw(st.sampled_from(("AUTH-1", "AUTH-2"))),
        "version": draw(st.integers(1, 2)),
        # Before, between and after the actions' dates (DC13, versions in force).
        "authorization_date": draw(st.sampled_from(("2023-03-01", "2024-02-01", "2024-06-15"))),
        "authorizing_party_id": draw(st.sampled_from(("IDN", "IDN", "MNG"))),
        "cooperative_approach_id": draw(st.sampled_from(("CA0001", "CA0002"))),
        "metric": "GHG",
        "authorized_quantity": draw(st.integers(5, 40)),
        "purposes": draw(st.sampled_from((["NDC"], ["NDC", "OIMP"], ["OIMP"]))),
        "authorized_party_ids": draw(st.sampled_from((["JPN"], ["JPN", "KOR"]))),
        **draw(st.sampled_from(({}, {"authorized_entity_ids": ["E1"]}))),
        "timeframe_start": 2023,
        "timeframe_end": draw(st.sampled_from((2023, 2030))),
        "status": draw(st.sampled_from(("active", "active", "revoked"))),
    }


class ActsFor:
    """A step changing what the registry acts for (config/registries.toml stored)."""

    def __init__(self, parties: tuple[str, ...]) -> None:
        self.parties = parties

    def __repr__(self) -> str:
        return f"ActsFor({self.parties})"


class Synced:
    """A step: the registry completes a sync (`sync_state.last_success_at`), with or
    without records: RULES.md counts it as synced from then on."""

    def __repr__(self) -> str:
        return "Synced()"


withdrawals = st.one_of(
    st.builds(lambda n: Withdrawal("action", f"A{n}"), st.integers(0, 7)),
    st.builds(
        lambda a, v: Withdrawal("authorization", f"AUTH-{a}#v{v}"),
        st.integers(1, 2),
        st.integers(1, 2),
    ),
)
operations = st.one_of(
    actions().map(lambda r: Incoming.from_record(r, "")),
    actions().map(lambda r: Incoming.from_record(r, "")),
    holdings().map(lambda r: Incoming.from_record(r, "")),
    authorizations().map(lambda r: Incoming.from_record(r, "")),
    authorizations().map(lambda r: Incoming.from_record(r, "")),
    withdrawals,
    st.sampled_from((ActsFor(("IDN",)), ActsFor(()))),
    st.just(Synced()),
)
steps = st.lists(
    st.tuples(
        st.sampled_from(REGISTRIES),
        st.lists(operations, min_size=1, max_size=5),
        st.sampled_from(CHECK_DATES),
    ),
    min_size=1,
    max_size=6,
)


def _alerts(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        found = store.list_alerts(connection, limit=100_000)
    return {a["id"]: {k: v for k, v in a.items() if k != "last_seen"} for a in found}


def _apply(engine: Engine, registry: str, ops: list[Operation | ActsFor | Synced]) -> None:
    """One step of a registry: its records as a file ingest would write them (the
    registry counts as synced), or only its configuration (`ActsFor`: then it is only
    configured until it has records or completes a sync, `Synced`)."""
    with engine.begin() as connection:
        records: list[Operation] = []
        for op in ops:
            if isinstance(op, ActsFor):
                config = RegistryConfig(registry, "", registry[:3], {}, op.parties)
                store_configured(connection, [config])
            elif isinstance(op, Synced):
                ensure_registry(connection, registry, origin="config")
                sync_state.ensure_state(connection, registry)
                sync_state.mark_success(connection, registry, datetime.now(UTC), None)
            else:
                records.append(op)
        if records:
            ensure_registry(connection, registry)
            IndexWriter(connection, registry, "test").apply(records)


History = list[tuple[str, list[Operation | ActsFor | Synced], date]]


def assert_incremental_equals_full(migrated_sqlite: Path, history: History, grace: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.db"
        shutil.copy(migrated_sqlite, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            as_of = CHECK_DATES[0]
            for registry, ops, as_of in history:
                _apply(engine, registry, ops)
                run_checks(engine, as_of=as_of, grace_days=grace)
            incremental = _alerts(engine)
            summary = run_checks(engine, full=True, as_of=as_of, grace_days=grace)
            assert summary.full
            assert (summary.opened, summary.reopened, summary.resolved) == ({}, {}, {})
            after = _alerts(engine)
            differences = {
                aid: {
                    k: (v, after.get(aid, {}).get(k))
                    for k, v in alert.items()
                    if after.get(aid, {}).get(k) != v
                }
                for aid, alert in incremental.items()
                if after.get(aid) != alert
            }
            assert differences == {}
        finally:
            engine.dispose()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps, grace=st.sampled_from((0, 30)))
def test_incremental_checks_equal_a_full_check(
    migrated_sqlite: Path, history: History, grace: int
) -> None:
    assert_incremental_equals_full(migrated_sqlite, history, grace)


# One authorization judged by several dated versions of its Party's registry: first
# transfers and uses over a few serials, so a use's units' first transfer (which
# decides the version judging it) changes as first transfers come, go and move.
@st.composite
def dated_versions(draw: Any) -> dict[str, Any]:
    return {
        "record_type": "authorization",
        "authorization_id": "AUTH-1",
        "version": draw(st.integers(1, 3)),
        "authorization_date": draw(st.sampled_from(("2023-03-01", "2024-02-01", "2024-06-15"))),
        "authorizing_party_id": "IDN",
        "cooperative_approach_id": "CA0001",
        "authorized_quantity": draw(st.integers(5, 40)),
        "purposes": draw(st.sampled_from((["NDC"], ["OIMP"], ["NDC", "OIMP"]))),
        "status": draw(st.sampled_from(("active", "active", "revoked"))),
    }


@st.composite
def authorized_actions(draw: Any) -> dict[str, Any]:
    first = draw(st.integers(1, 12))
    action_type = draw(st.sampled_from(("First transfer", "Use", "Cancellation")))
    record = {
        **_issuance(f"A{draw(st.integers(0, 7))}", first, first + draw(st.integers(0, 6))),
        "action_type": action_type,
        "action_date": draw(st.sampled_from(DATES)),
        "authorization_id": "AUTH-1",
    }
    if action_type != "First transfer":
        record["purpose"] = draw(st.sampled_from(("NDC", "OIMP")))
    return record


_versions_step = st.tuples(
    st.just("IDN01"),
    st.lists(dated_versions().map(lambda r: Incoming.from_record(r, "")), min_size=2, max_size=3),
    st.sampled_from(CHECK_DATES),
)
_actions_step = st.tuples(
    st.just("IDN01"),
    st.lists(
        st.one_of(
            authorized_actions().map(lambda r: Incoming.from_record(r, "")),
            st.builds(lambda n: Withdrawal("action", f"A{n}"), st.integers(0, 7)),
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(CHECK_DATES),
)
# Versions first (so most steps meet several), then mostly actions, sometimes versions.
dated_steps = st.tuples(
    _versions_step, st.lists(st.one_of(_actions_step, _actions_step, _versions_step), max_size=7)
).map(lambda found: [found[0], *found[1]])


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=dated_steps)
def test_incremental_checks_equal_a_full_check_under_dated_versions(
    migrated_sqlite: Path, history: History
) -> None:
    assert_incremental_equals_full(migrated_sqlite, history, 30)


def test_incremental_check_reads_only_what_changed(engine: Engine) -> None:
    """After the first (full) check, a check with no new records changes nothing and a
    check after one new record is incremental (on both databases)."""
    _apply(
        engine,
        "IDN01",
        [Incoming.from_record({**_issuance("I1", 1, 10)}, "")],
    )
    assert run_checks(engine, as_of=CHECK_DATES[0]).full
    _apply(engine, "JPN01", [Incoming.from_record(_issuance("I2", 5, 20), "")])
    summary = run_checks(engine, as_of=CHECK_DATES[0])
    assert not summary.full and summary.opened == {"DC01": 1}
    again = run_checks(engine, as_of=CHECK_DATES[0])
    assert (again.opened, again.resolved, again.open) == ({}, {}, {"DC01": 1})


def _issuance(action_id: str, first: int, last: int) -> dict[str, Any]:
    return {
        "record_type": "action",
        "action_id": action_id,
        "action_date": "2024-01-15",
        "action_type": "Issuance",
        "cooperative_approach_id": "CA0001",
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "first_id": first,
        "last_id": last,
        "vintage": 2023,
        "metric": "GHG",
    }


def _action(action_id: str, first: int, last: int, action_type: str, **extra: Any) -> Incoming:
    record = {**_issuance(action_id, first, last), "action_type": action_type, **extra}
    return Incoming.from_record(record, "")


def test_incremental_check_sees_partners_beyond_the_changed_range(engine: Engine) -> None:
    """A change at 8-9 re-judges the transfer 1-10; its acquisition 1-3 lies outside
    the changed range but must still count as its match (DC10 stays silent), and
    the transfers explaining a stale holding still explain it (DC04 stays silent); the
    issuances filling the two gaps trace every block that meets them (DC17 resolves,
    its alerts read by range: on both databases)."""
    as_of = date(2025, 1, 1)
    _apply(
        engine,
        "IDN01",
        [
            _action("ISS-1", 1, 7, "Issuance"),
            _action("ISS-2", 10, 34, "Issuance"),
            _action("ISS-3", 37, 40, "Issuance"),
            _action("TR-1", 1, 10, "Transfer", acquiring_party_id="JPN"),
            Incoming.from_record(
                {
                    **_issuance("x", 20, 40),
                    "record_type": "holding",
                    "as_of": "2024-01-01",
                    "account_id": "H",
                    "account_type": "holding",
                },
                "",
            ),
            _action("TR-2", 15, 30, "Transfer", acquiring_party_id="JPN", action_date="2024-02-01"),
            _action("TR-3", 31, 40, "Transfer", acquiring_party_id="JPN", action_date="2024-02-01"),
        ],
    )
    _apply(
        engine,
        "JPN01",
        [
            _action("ACQ-1", 1, 3, "Acquisition", transferring_party_id="IDN"),
            _action("ACQ-2", 15, 40, "Acquisition", transferring_party_id="IDN"),
            Incoming.from_record(
                {
                    **_issuance("x", 20, 40),
                    "record_type": "holding",
                    "as_of": "2024-06-30",
                    "account_id": "J",
                    "account_type": "holding",
                },
                "",
            ),
        ],
    )
    first = run_checks(engine, as_of=as_of)
    # Untraced: TR-1 (8-9), TR-3, ACQ-2 and both holdings (35-36).
    assert first.open == {"DC17": 5}
    _apply(engine, "IDN01", [_action("ISS-9", 8, 9, "Issuance")])
    _apply(engine, "IDN01", [_action("ISS-8", 35, 36, "Issuance")])
    summary = run_checks(engine, as_of=as_of)
    assert not summary.full and summary.opened == {} and summary.open == {}
    assert summary.resolved == {"DC17": 5}


def test_incremental_reads_in_chunks_end_where_a_full_check_does(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The changed intervals of every pair, and the authorization keys whose alerts are
    in scope, are read a chunk of rows per statement: with chunks of one row, the
    incremental check still opens and resolves what it must, and a full check after it
    changes nothing (on both databases)."""
    monkeypatch.setattr(read_blocks, "INTERVAL_CHUNK", 1)
    monkeypatch.setattr(in_scope, "KEY_CHUNK", 1)
    as_of = date(2025, 1, 1)
    first_transfer = {"acquiring_party_id": "JPN"}
    _apply(
        engine,
        "IDN01",
        [
            _action("ISS-1", 1, 10, "Issuance"),
            _action("ISS-2", 20, 30, "Issuance"),
            _action("FT-1", 1, 5, "First transfer", authorization_id="A-1", **first_transfer),
            _action("FT-2", 20, 25, "First transfer", authorization_id="A-2", **first_transfer),
        ],
    )
    _apply(engine, "JPN01", [_action("ISS-9", 5, 8, "Issuance")])
    first = run_checks(engine, as_of=as_of)
    assert first.full and first.open["DC01"] == 1 and first.open["DC07"] == 2
    _apply(engine, "JPN01", [_action("ISS-9", 22, 24, "Issuance")])
    _apply(
        engine,
        "IDN01",
        [
            _action("FT-1", 1, 6, "First transfer", authorization_id="A-3", **first_transfer),
            _action("FT-3", 26, 28, "First transfer", authorization_id="A-2", **first_transfer),
            Withdrawal("action", "FT-2"),
        ],
    )
    summary = run_checks(engine, as_of=as_of)
    assert not summary.full
    # ISS-9 moved from ISS-1 to ISS-2; FT-3 names no authorization anyone reported,
    # and nothing acquires it; FT-2 is withdrawn; FT-1's alert now names A-3.
    assert summary.opened == {"DC01": 1, "DC07": 1, "DC10": 1}
    assert summary.resolved == {"DC01": 1, "DC07": 1, "DC10": 1}
    incremental = _alerts(engine)
    full = run_checks(engine, full=True, as_of=as_of)
    assert (full.opened, full.reopened, full.resolved) == ({}, {}, {})
    assert _alerts(engine) == incremental


def test_first_transfers_of_many_keys_read_together_equal_each_key_read_alone(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The incremental check reads the first transfers from a date on of every key it
    judges in part at once (a chunk of keys per statement): per key, the same first
    transfers as reading that key alone, dated that day or later, of that key only
    (on both databases; chunks of one key)."""
    monkeypatch.setattr(read_authorizations, "KEY_CHUNK", 1)
    first_transfer = {"acquiring_party_id": "JPN"}
    _apply(
        engine,
        "IDN01",
        [
            _action(f"FT-{n}", 10 * n, 10 * n + 4, "First transfer", **first_transfer, **extra)
            for n, extra in enumerate(
                (
                    {"authorization_id": "A-1", "action_date": "2024-01-15"},
                    {"authorization_id": "A-1", "action_date": "2024-03-01"},
                    {"authorization_id": "A-1", "action_date": "2024-06-01"},
                    {"authorization_id": "A-2", "action_date": "2024-03-01"},
                    {"authorization_id": "A-2", "action_date": "2024-02-29"},
                    {"authorization_id": "A-3", "action_date": "2024-01-15"},
                )
            )
        ]
        + [_action("TR-1", 1, 5, "Transfer", authorization_id="A-1", action_date="2024-06-01")],
    )
    wanted = [
        ("CA0001", "A-1", "2024-03-01"),
        ("CA0001", "A-2", "2024-03-01"),
        ("CA0001", "A-3", "2024-06-01"),
        ("CA0002", "A-1", "2024-01-01"),
    ]
    with engine.connect() as connection:
        together = read_authorizations.first_transfers_since_keys(connection, wanted)
        alone = {
            (ca, aid): read_authorizations.first_transfers_since(connection, ca, aid, day)
            for ca, aid, day in wanted
        }
    uids = {key: sorted(r.uid for r in found) for key, found in together.items()}
    assert uids == {
        ("CA0001", "A-1"): ["FT-1", "FT-2"],
        ("CA0001", "A-2"): ["FT-3"],
        ("CA0001", "A-3"): [],
        ("CA0002", "A-1"): [],
    }
    assert {key: sorted(found) for key, found in together.items()} == {
        key: sorted(found) for key, found in alone.items()
    }
