"""The derived state of ITMOs (metareg.index.state), shared by the API and dashboard."""

from __future__ import annotations

from typing import Any

from metareg.index.state import derive_segments, overall_state, quantity_by_state


def item(registry: str, uid: str, first: int, last: int, **record: Any) -> dict[str, Any]:
    kind = "holding" if "account_id" in record else "action"
    return {
        "registry": registry,
        "record_type": kind,
        "record_id": uid,
        "record": {"first_id": first, "last_id": last, "vintage": 2023, **record},
    }


ISSUE = item("IDN01", "ISS", 1, 100, action_type="Issuance", action_date="2024-01-01")
USE = item("JPN01", "USE", 41, 60, action_type="Use", action_date="2024-06-01", purpose="NDC")
LATE_TRANSFER = item("JPN01", "TR", 50, 70, action_type="Transfer", action_date="2024-09-01")


def test_use_is_final_even_when_a_transfer_follows() -> None:
    segments = derive_segments(1, 100, [ISSUE, USE, LATE_TRANSFER])
    states = [(s.first_id, s.last_id, s.state) for s in segments]
    assert states == [
        (1, 40, "issued"),
        (41, 49, "used"),
        (50, 60, "used"),  # still used: the later transfer is what DC06 flags
        (61, 70, "transferred"),
        (71, 100, "issued"),
    ]
    assert segments[1].use is not None and segments[1].use["purpose"] == "NDC"
    assert segments[2].last_transfer is not None and segments[2].use == segments[1].use
    assert overall_state(segments) == "mixed"
    assert quantity_by_state(segments) == {"issued": 70, "used": 20, "transferred": 10}


def test_latest_holding_snapshot_names_the_holder_and_gaps_are_unknown() -> None:
    old = item("IDN01", "H1", 1, 10, account_id="A", account_type="holding", as_of="2023-12-31")
    new = item("IDN01", "H2", 1, 10, account_id="B", account_type="holding", as_of="2024-12-31")
    segments = derive_segments(1, 20, [old, new])
    assert [(s.state, [h["account_id"] for h in s.holders]) for s in segments] == [
        ("held", ["B"]),
        ("unknown", []),
    ]
