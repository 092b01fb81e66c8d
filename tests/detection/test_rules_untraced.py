"""DC17 untraced-block: a block moved, used or held that no issuance its originating
registry reports covers; with its near misses (touching ranges, an issuance covering
exactly, issuances together, another registry's issuance, an originating registry
only configured or not synced yet). On SQLite and PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

from sqlalchemy import Engine

from metareg.registries import RegistryConfig, store_configured
from tests.detection.conftest import Index
from tests.detection.test_rules import first_transfer, issuance, use
from tests.helpers import action, holding, withdrawal


def _name(record_id: str) -> str:
    """An action's id, or a holding's account (its identity: as_of|account|block)."""
    return record_id.split("|")[1] if "|" in record_id else record_id


def untraced(index: Index) -> list[tuple[str, int, int, str]]:
    return sorted(
        (_name(a["evidence"][0]["record_id"]), a["first_id"], a["last_id"], a["message"])
        for a in index.alerts("DC17", status="open")
    )


def test_dc17_a_transfer_beyond_every_issuance(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 100), first_transfer("FT-1", 90, 150))
    index.check()
    [(record, first, last, message)] = untraced(index)
    assert (record, first, last) == ("FT-1", 90, 150)
    assert "serials 101-150 were never issued by IDN01" in message


def test_dc17_near_miss_an_issuance_covering_exactly(index: Index) -> None:
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 100),
        first_transfer("FT-1", 1, 100),
        holding("GOV", 1, 100, account_type="government-holding"),
    )
    index.put("JPN01", action("ACQ-1", 1, 100, "Acquisition", transferring_party_id="IDN"))
    index.put("JPN01", use("USE-1", 1, 100))
    index.check()
    assert untraced(index) == []


def test_dc17_touching_ranges_one_serial_outside(index: Index) -> None:
    """A transfer that starts where the issuance ends + 1 touches it: untraced."""
    index.put("IDN01", issuance("ISS-1", 1, 100), first_transfer("FT-1", 101, 101))
    index.check()
    assert [(r, f, la) for r, f, la, _ in untraced(index)] == [("FT-1", 101, 101)]


def test_dc17_touching_issuances_cover_together_a_gap_does_not(index: Index) -> None:
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 50),
        issuance("ISS-2", 51, 100),
        first_transfer("FT-1", 30, 80),  # across the two touching issuances: traced
        issuance("ISS-3", 201, 250),
        issuance("ISS-4", 252, 300),
        first_transfer("FT-2", 230, 280),  # serial 251 was never issued
    )
    index.check()
    [(record, first, last, message)] = untraced(index)
    assert (record, first, last) == ("FT-2", 230, 280)
    assert "serials 251-251" in message


def test_dc17_another_registrys_issuance_traces_nothing(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 10))
    index.put(
        "JPN01",
        issuance("JPN-ISS", 500, 600),  # JPN01 reports an issuance of IDN01's block
        holding("J", 500, 600),
    )
    index.check()
    assert [r for r, *_ in untraced(index)] == ["J"]


def test_dc17_held_units_are_judged_voluntary_cancellations_are_not(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 10))
    index.put(
        "JPN01",
        holding("J", 20, 30),
        action("VC-1", 40, 50, "Voluntary cancellation", purpose="OMGE"),
    )
    index.check()
    assert [r for r, *_ in untraced(index)] == ["J"]


def test_dc17_waits_for_the_originating_registry_to_be_synced(index: Index, engine: Engine) -> None:
    """Only configured, IDN01 does not count: JPN01's acquisition is not judged; once
    IDN01 has synced (here: ingested its issuances) the incremental check judges it."""
    with engine.begin() as connection:
        store_configured(connection, [RegistryConfig("IDN01", "", "IDN", {}, ())])
    index.put("JPN01", action("ACQ-1", 1, 100, "Acquisition", transferring_party_id="IDN"))
    first = index.check()
    assert "DC17" not in first.open
    index.put("IDN01", issuance("ISS-1", 1, 60))
    summary = index.check()
    assert not summary.full and summary.opened.get("DC17") == 1
    assert [r for r, *_ in untraced(index)] == ["ACQ-1"]
    again = index.check(full=True)
    assert (again.opened, again.resolved) == ({}, {})


def test_dc17_resolves_when_the_issuance_arrives_and_reopens_when_withdrawn(
    index: Index,
) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 10), first_transfer("FT-1", 20, 30))
    index.check()
    assert [r for r, *_ in untraced(index)] == ["FT-1"]
    late = issuance("ISS-2", 11, 40)
    index.put("IDN01", late)
    summary = index.check()
    assert summary.resolved == {"DC17": 1} and untraced(index) == []
    index.put("IDN01", withdrawal({"record_type": "action", "action_id": "ISS-2"}))
    summary = index.check()
    assert summary.reopened == {"DC17": 1}
    assert [r for r, *_ in untraced(index)] == ["FT-1"]
