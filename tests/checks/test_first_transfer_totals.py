"""DC09's totals kept between checks (`checks.first_transfer_totals`): an incremental
check continues each authorization's total of first transfers from the actions that
changed (new, corrected into or out of the key, withdrawn) instead of summing the key
again, and its DC09 alerts are a full check's.

After every check, each kept total equals the SQL sum over the current index, and a
full check over the same index opens, reopens and resolves nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select

from metareg.checks.runner import run_checks
from metareg.db.tables.alerts import FirstTransferTotal
from metareg.detection.read import authorizations
from metareg.index.writer import IndexWriter
from metareg.records.operations import Incoming, Operation, Withdrawal
from metareg.registries import ensure_registry

AS_OF = date(2025, 1, 1)


def _authorization(aid: str, quantity: int) -> Incoming:
    return Incoming.from_record(
        {
            "record_type": "authorization",
            "authorization_id": aid,
            "version": 1,
            "authorization_date": "2023-03-01",
            "authorizing_party_id": "IDN",
            "cooperative_approach_id": "CA0001",
            "metric": "GHG",
            "authorized_quantity": quantity,
            "purposes": ["NDC"],
            "status": "active",
        },
        "",
    )


def _action(
    action_id: str, first: int, last: int, day: str, aid: str, kind: str = "First transfer"
) -> Incoming:
    record: dict[str, Any] = {
        "record_type": "action",
        "action_id": action_id,
        "action_date": day,
        "action_type": kind,
        "cooperative_approach_id": "CA0001",
        "party_registry_id": "IDN01",
        "first_transferring_party_id": "IDN",
        "first_id": first,
        "last_id": last,
        "vintage": 2024,
        "metric": "GHG",
        "authorization_id": aid,
    }
    if kind == "First transfer":
        record["acquiring_party_id"] = "JPN"
    else:
        record.update(purpose="NDC", using_party_id="JPN")
    return Incoming.from_record(record, "")


def _apply(engine: Engine, ops: list[Operation]) -> None:
    with engine.begin() as connection:
        ensure_registry(connection, "IDN01")
        IndexWriter(connection, "IDN01", "test").apply(ops)


def _kept_totals_hold(engine: Engine) -> dict[tuple[str, str], int]:
    with engine.connect() as connection:
        kept = {
            (ca, aid): units
            for ca, aid, units in connection.execute(
                select(
                    FirstTransferTotal.c.cooperative_approach_id,
                    FirstTransferTotal.c.authorization_id,
                    FirstTransferTotal.c.units,
                )
            )
        }
        for (ca, aid), units in kept.items():
            assert units == authorizations.first_transferred(connection, ca, aid), (ca, aid)
    return kept


def _check(engine: Engine) -> dict[str, int]:
    summary = run_checks(engine, as_of=AS_OF)
    assert not summary.full
    _kept_totals_hold(engine)
    return summary.open


def test_kept_totals_follow_every_change_and_dc09_equals_a_full_check(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _apply(
        engine,
        [
            _authorization("AUTH-1", 25),
            _authorization("AUTH-2", 12),
            _action("A1", 1, 10, "2024-01-15", "AUTH-1"),
            _action("A2", 11, 20, "2024-03-01", "AUTH-1"),
            _action("B1", 101, 110, "2024-02-01", "AUTH-2"),
        ],
    )
    first = run_checks(engine, as_of=AS_OF)
    assert first.full and "DC09" not in first.open
    assert _kept_totals_hold(engine) == {("CA0001", "AUTH-1"): 20, ("CA0001", "AUTH-2"): 10}

    def summed(*args: Any) -> int:
        raise AssertionError(f"an incremental check summed a key's first transfers: {args}")

    # From here on every total is continued, never summed again.
    monkeypatch.setattr(authorizations, "first_transferred_before", summed)

    # A later first transfer takes AUTH-1 past 25: DC09 on it alone.
    _apply(engine, [_action("A3", 21, 30, "2024-06-01", "AUTH-1")])
    assert _check(engine).get("DC09") == 1
    assert _kept_totals_hold(engine)[("CA0001", "AUTH-1")] == 30

    # A1 becomes a use (no longer counted): the total falls back to 20, DC09 resolves.
    _apply(engine, [_action("A1", 1, 10, "2024-01-15", "AUTH-1", kind="Use")])
    assert "DC09" not in _check(engine)
    assert _kept_totals_hold(engine)[("CA0001", "AUTH-1")] == 20

    # A2 moves to AUTH-2 (12 units): AUTH-1 keeps 10, AUTH-2 reaches 20, DC09 on A2.
    _apply(engine, [_action("A2", 11, 20, "2024-03-01", "AUTH-2")])
    assert _check(engine).get("DC09") == 1
    kept = _kept_totals_hold(engine)
    assert kept[("CA0001", "AUTH-1")] == 10 and kept[("CA0001", "AUTH-2")] == 20

    # Withdrawn, then reported again, and a check with nothing new.
    _apply(engine, [Withdrawal("action", "A2")])
    assert "DC09" not in _check(engine)
    _apply(engine, [_action("A2", 11, 24, "2024-03-01", "AUTH-2")])
    assert _check(engine).get("DC09") == 1
    assert _check(engine).get("DC09") == 1
    assert _kept_totals_hold(engine)[("CA0001", "AUTH-2")] == 24

    monkeypatch.undo()
    full = run_checks(engine, full=True, as_of=AS_OF)
    assert (full.opened, full.reopened, full.resolved) == ({}, {}, {})
    assert full.open.get("DC09") == 1
