"""The full check's screen keeps every block that could be part of a finding.

The screened full check (numpy screen, then the exact sweep over the kept clusters)
must find exactly what the exhaustive sweep over every block finds: on random
histories where conflicts are frequent (the incremental test's strategies), on random
ordinary chains where they are rare and near misses are the point (one field or one
day off), and on the benchmark's world with its planted conflicts of every rule.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from bench.generator import generate
from metareg.checks import runner
from metareg.db.engine import make_engine
from metareg.db.tables.index import Action, Holding
from metareg.detection.passes.full import find_all
from metareg.detection.prefilter import blocks as screen
from metareg.detection.rules.kinds import CheckContext
from metareg.detection.rules.terms import party_of
from metareg.records.operations import Incoming, Operation
from metareg.sync.ingest import ingest_files
from tests.detection.test_incremental import _apply, steps

AS_OF = date(2025, 1, 1)


def _context(engine: Engine, as_of: date, grace: int) -> CheckContext:
    with engine.connect() as connection:
        registries = runner._synced_registries(connection, None)
    parties = frozenset(party_of(r) for r in registries)
    return CheckContext(as_of - timedelta(days=grace), grace, parties, frozenset(registries))


def _both(engine: Engine, as_of: date = AS_OF, grace: int = 30) -> tuple[list[str], list[str]]:
    """(screened findings, exhaustive findings), each as sorted reprs."""
    context = _context(engine, as_of, grace)
    with engine.connect() as connection:
        screened = find_all(connection, context).findings
        exhaustive = find_all(connection, context, exhaustive=True).findings
    return sorted(map(repr, screened)), sorted(map(repr, exhaustive))


def _on_copy(migrated_sqlite: Path, body: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.db"
        shutil.copy(migrated_sqlite, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            body(engine)
        finally:
            engine.dispose()


SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# The screen cuts each pair's records into pieces of whole clusters (`screen.PIECE`
# records): tiny pieces here, so the cuts fall inside these small worlds.
PIECES = st.sampled_from((1, 3, screen.PIECE))


@SETTINGS
@given(history=steps, grace=st.sampled_from((0, 30)), piece=PIECES)
def test_screen_equals_the_exhaustive_sweep_where_conflicts_are_frequent(
    migrated_sqlite: Path,
    monkeypatch: pytest.MonkeyPatch,
    history: list[tuple[str, list[Operation], date]],
    grace: int,
    piece: int,
) -> None:
    monkeypatch.setattr(screen, "PIECE", piece)

    def body(engine: Engine) -> None:
        for registry, ops, _ in history:
            _apply(engine, registry, ops)
        screened, exhaustive = _both(engine, history[-1][2], grace)
        assert screened == exhaustive

    _on_copy(migrated_sqlite, body)


# -- ordinary chains with near misses --------------------------------------------------------

SELLER, BUYER, OTHER = "IDN01", "JPN01", "KOR01"
NUDGES = (
    "none",
    "none",
    "none",
    "partial transfer",
    "acquisition of other range",
    "acquisition from other party",
    "transfer to other party",
    "use before acquisition",
    "holding after use",
    "cancellation holding after use",
    "second use",
    "second issuance nearby",
    "vintage",
    "mitigation type",
    "no mitigation type",
    "quantity",
    "unsynced buyer",
    "recent transfer",
    "holding twice",
    "long transfer",
)


def _chain(
    n: int, first: int, size: int, nudge: str, rng: random.Random, ca: str = "CA0001"
) -> list[Any]:
    """(registry, record) of one block's chain, with one nudge."""
    last = first + size - 1
    base = {
        "cooperative_approach_id": ca,
        "party_registry_id": SELLER,
        "first_transferring_party_id": "IDN",
        "first_id": first,
        "last_id": last,
        "vintage": 2023,
        "metric": "GHG",
        "mitigation_type": "Emission reductions",
        "quantity_tco2e": size,
    }
    day = date(2024, 1, 10) + timedelta(days=rng.randint(0, 30))

    def action(kind: str, at: date, **extra: Any) -> dict[str, Any]:
        record = {**base, "record_type": "action", "action_type": kind}
        record.update({"action_id": f"{kind[:2]}-{n}", "action_date": at.isoformat()})
        record.update(extra)
        return record

    records: list[Any] = [(SELLER, action("Issuance", day))]
    moved_last = last - size // 2 if nudge == "partial transfer" and size > 1 else last
    buyer = "KOR" if nudge == "transfer to other party" else "JPN"
    if nudge == "unsynced buyer":
        buyer = "CHE"
    transfer_day = day + timedelta(days=10)
    if nudge == "recent transfer":
        transfer_day = AS_OF - timedelta(days=3)
    transfer_last = last + 3 if nudge == "long transfer" else moved_last
    records.append(
        (
            SELLER,
            action(
                "First transfer",
                transfer_day,
                last_id=transfer_last,
                quantity_tco2e=transfer_last - first + 1,
                authorization_id="AUTH-1",
                acquiring_party_id=buyer,
            ),
        )
    )
    if moved_last < last:
        holding = {**base, "record_type": "holding", "first_id": moved_last + 1}
        holding.update(
            quantity_tco2e=last - moved_last,
            as_of="2024-12-31",
            account_id="GOV",
            account_type="government-holding",
        )
        records.append((SELLER, holding))
    acquisition_first = first + 1 if nudge == "acquisition of other range" else first
    records.append(
        (
            BUYER,
            action(
                "Acquisition",
                transfer_day + timedelta(days=2),
                first_id=acquisition_first,
                last_id=transfer_last,
                quantity_tco2e=transfer_last - acquisition_first + 1,
                transferring_party_id="MNG" if nudge == "acquisition from other party" else "IDN",
            ),
        )
    )
    use_day = transfer_day + timedelta(days=20)
    if nudge == "use before acquisition":
        use_day = transfer_day - timedelta(days=1)
    records.append(
        (
            BUYER,
            action(
                "Use",
                use_day,
                last_id=moved_last,
                quantity_tco2e=moved_last - first + 1,
                authorization_id="AUTH-1",
                purpose="NDC",
                using_party_id="JPN",
            ),
        )
    )
    if nudge in ("holding after use", "cancellation holding after use", "holding twice"):
        # Two cancellation accounts: DC04 alone (DC06 ignores where used units belong).
        account = "holding" if nudge == "holding after use" else "cancellation"
        holding = {**base, "record_type": "holding", "last_id": moved_last}
        holding.update(
            quantity_tco2e=moved_last - first + 1,
            as_of=(use_day + timedelta(days=1)).isoformat(),
            account_id=f"BUY-{n}",
            account_type=account,
        )
        records.append((BUYER, holding))
        if nudge == "holding twice":
            records.append((OTHER, {**holding, "account_id": "K"}))
    if nudge == "second use":
        records.append((BUYER, action("Cancellation", use_day, action_id=f"CN-{n}", purpose="NDC")))
    if nudge == "second issuance nearby":
        records.append((OTHER, action("Issuance", day, first_id=last, last_id=last)))
    if nudge == "vintage":
        records[-1][1]["vintage"] = 2022
    if nudge == "mitigation type":
        records[-1][1]["mitigation_type"] = "Removals"
    if nudge == "no mitigation type":
        records[-1][1].pop("mitigation_type", None)
    if nudge == "quantity":
        records[0][1]["quantity_tco2e"] = size + 1
    return records


APPROACHES = ("CA0001", "CA0001", "CA0002")  # two (approach, registry) pairs


@st.composite
def worlds(draw: Any) -> list[Any]:
    rng = random.Random(draw(st.integers(0, 10_000)))
    records: list[Any] = []
    # Long serial numbers too (from 2**40 on, past what one sort key of pair and
    # serial could hold).
    first = draw(st.sampled_from((1, 1, 1, 1 << 40)))
    for n in range(draw(st.integers(1, 12))):
        size = draw(st.integers(1, 6))
        nudge = draw(st.sampled_from(NUDGES))
        records += _chain(n, first, size, nudge, rng, draw(st.sampled_from(APPROACHES)))
        first += size + draw(st.sampled_from((0, 0, 1, 5)))  # touching blocks are common
    return records


@SETTINGS
@given(world=worlds(), grace=st.sampled_from((0, 30)), piece=PIECES)
def test_screen_equals_the_exhaustive_sweep_on_ordinary_chains(
    migrated_sqlite: Path,
    monkeypatch: pytest.MonkeyPatch,
    world: list[Any],
    grace: int,
    piece: int,
) -> None:
    monkeypatch.setattr(screen, "PIECE", piece)

    def body(engine: Engine) -> None:
        for registry in (SELLER, BUYER, OTHER):
            ops = [Incoming.from_record(r, "") for reg, r in world if reg == registry]
            if ops:
                _apply(engine, registry, ops)
        screened, exhaustive = _both(engine, AS_OF, grace)
        assert screened == exhaustive

    _on_copy(migrated_sqlite, body)


def test_clean_chains_are_screened_out(migrated_sqlite: Path) -> None:
    """The point of the screen: ordinary chains never reach the sweep."""

    def body(engine: Engine) -> None:
        rng = random.Random(1)
        world = [r for n in range(50) for r in _chain(n, 1 + n * 10, 5, "none", rng)]
        world += _chain(50, 1000, 5, "second use", rng)
        for registry in (SELLER, BUYER):
            _apply(
                engine, registry, [Incoming.from_record(r, "") for g, r in world if g == registry]
            )
        context = _context(engine, AS_OF, 30)
        with engine.connect() as connection:
            kept = list(screen.suspects(screen.read(connection), context))
        assert [(len(a), len(h)) for _, a, h in kept] == [(5, 0)]  # the chain with two uses

    _on_copy(migrated_sqlite, body)


# -- the benchmark's world, on both backends ------------------------------------------------


def test_screen_finds_every_planted_conflict_of_the_bench_world(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = generate(tmp_path / "world", 3_000, seed=11)
    for registry, path in sorted(manifest.files.items()):
        ingest_files(engine, [Path(path)], registry)
    as_of = date(2026, 12, 31)
    screened, exhaustive = _both(engine, as_of, 30)
    assert screened == exhaustive
    # The copy's records converted a few at a time (as a large index's are) read the same.
    with engine.connect() as connection:
        whole = screen.read(connection)
        monkeypatch.setattr(screen, "CONVERT_RECORDS", 7)
        assert _both(engine, as_of, 30)[0] == screened
        pieces = screen.read(connection)
    for name in ("ids", "holding", "pair", "first", "last", "day", "packed", "parties"):
        assert (getattr(pieces, name) == getattr(whole, name)).all(), name
    # Each record's date as the screen read it (on PostgreSQL from the day numbers its
    # aggregates list, on SQLite from the copy) is the date stored.
    with engine.connect() as connection:
        stored = {
            (False, i): d for i, d in connection.execute(select(Action.c.id, Action.c.action_date))
        }
        stored |= {
            (True, i): d for i, d in connection.execute(select(Holding.c.id, Holding.c.as_of))
        }
    read = zip(whole.holding.tolist(), whole.ids.tolist(), whole.day.tolist(), strict=True)
    assert {(h, i): day for h, i, day in read} == {
        key: screen.date_key(day) for key, day in stored.items()
    }
    found = {line.split("rule='")[1][:4] for line in screened}
    planted_block_rules = {
        rule
        for rule, count in manifest.planted.items()
        if count and rule not in ("DC03", "DC07", "DC08", "DC09")
    }
    assert planted_block_rules <= found


def test_an_index_the_screen_cannot_read_is_swept_whole(migrated_sqlite: Path) -> None:
    """A row the schema would refuse (here a Party code edited by hand into something
    not ASCII) defeats the fixed-width Party codes: the check falls back to the
    exhaustive sweep and still finds the conflicts."""

    def body(engine: Engine) -> None:
        world = _chain(0, 1, 4, "second use", random.Random(2))
        for registry in (SELLER, BUYER):
            _apply(
                engine, registry, [Incoming.from_record(r, "") for g, r in world if g == registry]
            )
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE actions SET first_transferring_party_id = 'ÎDN' "
                    "WHERE action_type = 'Use'"
                )
            )
        with engine.connect() as connection, pytest.raises(screen.ScreenUnavailable):
            screen.read(connection)
        screened, exhaustive = _both(engine)
        assert screened == exhaustive
        assert {"DC02", "DC05"} <= {line.split("rule='")[1][:4] for line in screened}

    _on_copy(migrated_sqlite, body)
