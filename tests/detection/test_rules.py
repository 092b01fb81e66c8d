"""Every rule of RULES.md: the conflict it must flag, and the near misses it must not
(touching ranges, the same record re-sent, another cooperative approach, a
corrected record, a stale snapshot explained by a later transfer)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from metareg.registries import RegistryConfig, store_configured
from metareg.sync import state as sync_state
from tests.detection.conftest import Index
from tests.helpers import action, authorization, holding, withdrawal

VERRA = "19385-{}-{}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"


def issuance(action_id: str, first: int, last: int, **extra: object) -> dict:
    return action(action_id, first, last, "Issuance", **extra)


def first_transfer(action_id: str, first: int, last: int, **extra: object) -> dict:
    fields = {"authorization_id": "IDN-2023-0001", "acquiring_party_id": "JPN", **extra}
    return action(action_id, first, last, "First transfer", **fields)


def use(action_id: str, first: int, last: int, **extra: object) -> dict:
    fields = {
        "authorization_id": "IDN-2023-0001",
        "purpose": "NDC",
        "using_party_id": "JPN",
        "action_date": "2024-06-01",
        **extra,
    }
    return action(action_id, first, last, "Use", **fields)


# -- DC01 ---------------------------------------------------------------------------------


def test_dc01_overlapping_issuances_from_two_registries(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 100))
    index.put("JPN01", issuance("ISS-9", 50, 150))
    index.check()
    [alert] = index.alerts("DC01")
    assert alert["status"] == "open"
    assert alert["name"] == "double-issuance" and alert["severity"] == "critical"
    assert (alert["first_id"], alert["last_id"]) == (50, 100)
    assert (alert["cooperative_approach_id"], alert["party_registry_id"]) == ("CA0001", "IDN01")
    assert alert["registries"] == ["IDN01", "JPN01"]
    assert {(e["registry"], e["record_id"]) for e in alert["evidence"]} == {
        ("IDN01", "ISS-1"),
        ("JPN01", "ISS-9"),
    }


def test_dc01_near_misses(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 100), issuance("ISS-2", 101, 200))  # touching
    index.put("IDN01", issuance("ISS-1", 1, 100))  # the same record re-sent
    index.put("IDN01", issuance("ISS-3", 300, 400))
    index.put("IDN01", issuance("ISS-3", 250, 299))  # corrected: only its new range counts
    index.put("IDN01", issuance("ISS-4", 1, 100, cooperative_approach_id="CA0002"))
    index.check()
    assert index.alerts("DC01") == []


def test_dc01_resolved_when_corrected_and_reopened_when_it_returns(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 100))
    index.put("JPN01", issuance("ISS-9", 50, 150))
    index.check()
    [opened] = index.alerts("DC01")
    index.put("JPN01", issuance("ISS-9", 101, 150))  # JPN01 corrects its record
    index.check()
    [resolved] = index.alerts("DC01")
    assert resolved["id"] == opened["id"] and resolved["status"] == "resolved"
    assert resolved["resolved_at"] is not None
    index.put("JPN01", issuance("ISS-9", 60, 150))  # and gets it wrong again
    index.check()
    [reopened] = index.alerts("DC01")
    assert reopened["id"] == opened["id"] and reopened["status"] == "open"
    assert reopened["resolved_at"] is None and (reopened["first_id"], reopened["last_id"]) == (
        60,
        100,
    )


# -- DC02 ---------------------------------------------------------------------------------


def test_dc02_identifier_disagreement(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 100, mitigation_type="Removals"))
    index.put("JPN01", holding("JPN-1", 50, 60, vintage=2024, mitigation_type="Removals"))
    index.check()
    [alert] = index.alerts("DC02")
    assert "vintage" in alert["message"] and (alert["first_id"], alert["last_id"]) == (50, 60)


def test_dc02_near_misses(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 100, mitigation_type="Removals"))
    # mitigation_type given by one side only; a touching block with another vintage;
    # another cooperative approach with another Party.
    index.put("JPN01", holding("JPN-1", 1, 50), holding("JPN-2", 101, 120, vintage=2024))
    index.put(
        "JPN01",
        holding(
            "JPN-3", 1, 50, cooperative_approach_id="CA0002", first_transferring_party_id="MNG"
        ),
    )
    index.check()
    assert index.alerts("DC02") == []


# -- DC03 ---------------------------------------------------------------------------------


def test_dc03_same_underlying_units_issued_twice(index: Index) -> None:
    index.put(
        "IDN01",
        issuance(
            "ISS-1",
            1,
            425,
            underlying_registry_id="VCS",
            first_unit_id=VERRA.format(941467007, 941467431),
        ),
    )
    index.put(
        "IDN01",
        issuance(
            "ISS-2",
            1001,
            1201,
            action_date="2024-05-01",
            underlying_registry_id="VCS",
            first_unit_id=VERRA.format(941467300, 941467500),
        ),
    )
    index.check()
    [alert] = index.alerts("DC03")
    # The later-issued block gives the alert its range.
    assert (alert["first_id"], alert["last_id"]) == (1001, 1201)
    assert {e["record_id"] for e in alert["evidence"]} == {"ISS-1", "ISS-2"}


def test_dc03_unparseable_serials_compare_as_text(index: Index) -> None:
    units = {"underlying_registry_id": "GCC", "first_unit_id": "PROJECT", "last_unit_id": "X"}
    index.put("IDN01", issuance("ISS-1", 1, 10, **units))
    index.put("JPN01", issuance("ISS-7", 20, 30, party_registry_id="JPN01", **units))
    index.put("JPN01", issuance("ISS-8", 40, 50, **{**units, "last_unit_id": "Y"}))
    index.check()
    [alert] = index.alerts("DC03")
    assert {e["record_id"] for e in alert["evidence"]} == {"ISS-1", "ISS-7"}


def test_dc03_near_misses(index: Index) -> None:
    vcs = {"underlying_registry_id": "VCS"}
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 425, first_unit_id=VERRA.format(941467007, 941467431), **vcs),
        # touching underlying ranges
        issuance("ISS-2", 1001, 1100, first_unit_id=VERRA.format(941467432, 941467531), **vcs),
        # same units but another underlying registry
        issuance(
            "ISS-3",
            2001,
            2100,
            first_unit_id=VERRA.format(941467007, 941467106),
            underlying_registry_id="GS",
        ),
    )
    index.check()
    assert index.alerts("DC03") == []


def test_dc03_not_raised_for_overlapping_blocks(index: Index) -> None:
    units = {"underlying_registry_id": "VCS", "first_unit_id": VERRA.format(1, 100)}
    index.put("IDN01", issuance("ISS-1", 1, 100, **units))
    index.put("JPN01", issuance("ISS-9", 1, 100, **units))
    index.check()
    assert index.alerts("DC03") == [] and len(index.alerts("DC01")) == 1


# -- DC04 ---------------------------------------------------------------------------------


def test_dc04_two_registries_hold_the_same_units(index: Index) -> None:
    index.put("IDN01", holding("IDN-GOV", 1, 100, as_of="2024-12-31"))
    index.put("JPN01", holding("JPN-GOV", 41, 200, as_of="2025-03-31"))
    index.check()
    [alert] = index.alerts("DC04")
    assert (alert["first_id"], alert["last_id"]) == (41, 100)
    assert alert["registries"] == ["IDN01", "JPN01"]


def test_dc04_stale_snapshot_explained_by_a_later_transfer(index: Index) -> None:
    index.put("IDN01", holding("IDN-GOV", 1, 100, as_of="2024-12-31"))
    index.put("JPN01", holding("JPN-GOV", 41, 200, as_of="2025-03-31"))
    # IDN01 transferred 41-100 out after its snapshot, in two pieces.
    index.put(
        "IDN01",
        first_transfer("FT-1", 41, 70, action_date="2025-01-15"),
        first_transfer("FT-2", 71, 100, action_date="2025-02-01"),
    )
    index.check()
    assert index.alerts("DC04", status="open") == []


def test_dc04_partial_or_earlier_transfer_does_not_explain(index: Index) -> None:
    index.put("IDN01", holding("IDN-GOV", 1, 100, as_of="2024-12-31"))
    index.put("JPN01", holding("JPN-GOV", 41, 200, as_of="2025-03-31"))
    index.put(
        "IDN01",
        first_transfer("FT-1", 41, 70, action_date="2025-01-15"),  # leaves 71-100
        first_transfer("FT-2", 71, 100, action_date="2024-12-01"),  # before the snapshot
    )
    index.check()
    assert len(index.alerts("DC04", status="open")) == 1


def test_dc04_two_accounts_of_one_registry_and_touching_holdings(index: Index) -> None:
    index.put("IDN01", holding("A", 1, 100), holding("B", 100, 150), holding("C", 151, 200))
    index.check()
    [alert] = index.alerts("DC04")
    assert (alert["first_id"], alert["last_id"]) == (100, 100)  # A/B; B/C only touch


# -- DC05 ---------------------------------------------------------------------------------


def test_dc05_units_used_twice(index: Index) -> None:
    index.put("JPN01", use("USE-1", 1, 100))
    index.put("IDN01", action("CAN-1", 90, 120, "Voluntary cancellation", purpose="OMGE"))
    index.check()
    [alert] = index.alerts("DC05")
    assert (alert["first_id"], alert["last_id"]) == (90, 100)


def test_dc05_near_misses(index: Index) -> None:
    index.put("JPN01", use("USE-1", 1, 100), use("USE-2", 101, 200))
    index.put("JPN01", use("USE-1", 1, 100))
    index.put("JPN01", use("USE-3", 1, 100, cooperative_approach_id="CA0002"))
    index.check()
    assert index.alerts("DC05") == []


# -- DC06 ---------------------------------------------------------------------------------


def test_dc06_transfer_and_holding_after_use(index: Index) -> None:
    index.put("JPN01", use("USE-1", 1, 100, action_date="2024-06-01"))
    index.put(
        "IDN01",
        action("TR-1", 50, 60, "Transfer", acquiring_party_id="JPN", action_date="2024-07-01"),
    )
    index.put("JPN01", holding("JPN-H", 90, 110, as_of="2024-12-31"))
    index.check()
    alerts = index.alerts("DC06")
    assert sorted((a["first_id"], a["last_id"]) for a in alerts) == [(50, 60), (90, 100)]


def test_dc06_near_misses(index: Index) -> None:
    index.put("JPN01", use("USE-1", 1, 100, action_date="2024-06-01"))
    index.put(
        "IDN01",
        first_transfer("FT-1", 1, 100, action_date="2024-03-15"),  # before the use
        action("TR-2", 101, 120, "Transfer", acquiring_party_id="JPN", action_date="2024-07-01"),
    )
    index.put(
        "JPN01",
        holding("JPN-CANCEL", 1, 100, account_type="cancellation"),
        holding("JPN-H", 1, 100, as_of="2024-05-31"),  # snapshot before the use
    )
    index.check()
    assert index.alerts("DC06") == []


# -- DC07 / DC08 / DC09 ----------------------------------------------------------------------


def test_dc07_missing_authorization_resolved_when_it_arrives(index: Index) -> None:
    index.put("IDN01", first_transfer("FT-1", 1, 100))
    index.put("JPN01", authorization(cooperative_approach_id="CA0002"))  # another approach
    index.check()
    [alert] = index.alerts("DC07")
    assert alert["status"] == "open" and "IDN-2023-0001" in alert["message"]
    index.put("IDN01", authorization())
    index.check()
    assert [a["status"] for a in index.alerts("DC07")] == ["resolved"]


def test_dc08_purpose_and_revocation(index: Index) -> None:
    index.put("IDN01", authorization(purposes=["NDC"]))
    index.put(
        "JPN01",
        use("USE-1", 1, 10, purpose="OIMP"),
        use("USE-2", 11, 20, purpose="NDC"),
        use("USE-3", 21, 30, purpose="OMGE"),
    )
    index.check()
    [alert] = index.alerts("DC08")
    assert [e["record_id"] for e in alert["evidence"]] == ["USE-1", "IDN-2023-0001#v1"]
    # A later version, revoked: every use under it is flagged (the v1 alert resolves,
    # its evidence named the superseded version).
    index.put("IDN01", authorization(version=2, purposes=["NDC", "OIMP"], status="revoked"))
    index.check()
    open_ = index.alerts("DC08", status="open")
    assert sorted(a["evidence"][0]["record_id"] for a in open_) == ["USE-1", "USE-2", "USE-3"]
    assert all("revoked" in a["message"] for a in open_)
    assert [a["status"] for a in index.alerts("DC08") if a["id"] == alert["id"]] == ["resolved"]


def test_dc08_oimp_covered_by_oimp_authorization(index: Index) -> None:
    index.put("IDN01", authorization(purposes=["NDC", "OIMP"]))
    index.put("JPN01", use("USE-1", 1, 10, purpose="OIMP"))
    index.check()
    assert index.alerts("DC08") == []


def test_dc09_quantity_timeframe_and_party(index: Index) -> None:
    index.put(
        "IDN01",
        authorization(authorized_quantity=150, timeframe_start=2021, timeframe_end=2023),
    )
    index.put(
        "IDN01",
        first_transfer("FT-1", 1, 100, action_date="2024-03-01"),
        first_transfer("FT-2", 101, 200, action_date="2024-04-01"),
        first_transfer("FT-3", 201, 210, action_date="2024-05-01"),
        first_transfer("FT-4", 301, 310, action_date="2024-02-01", vintage=2024),
    )
    index.check()
    flagged = {a["evidence"][0]["record_id"]: a["message"] for a in index.alerts("DC09")}
    # Date order: FT-4 (10), FT-1 (110), FT-2 (210 > 150), FT-3 (220).
    assert sorted(flagged) == ["FT-2", "FT-3", "FT-4"]
    assert "timeframe" in flagged["FT-4"] and "210" in flagged["FT-2"]
    index.put("IDN01", first_transfer("FT-5", 401, 410, acquiring_party_id="KOR"))
    index.check()
    assert "KOR" in index.alerts("DC09")[0]["message"] or any(
        "KOR" in a["message"] for a in index.alerts("DC09")
    )


def test_dc09_near_miss_within_quantity(index: Index) -> None:
    index.put("IDN01", authorization(authorized_quantity=200))
    index.put("IDN01", first_transfer("FT-1", 1, 100), first_transfer("FT-2", 101, 200))
    index.put("IDN01", first_transfer("FT-2", 101, 200))  # re-sent: not counted twice
    index.check()
    assert index.alerts("DC09") == []


# -- DC10 / DC11 ---------------------------------------------------------------------------


def test_dc10_and_dc11_unmatched_after_the_grace_period(index: Index) -> None:
    index.put("IDN01", authorization(), first_transfer("FT-1", 1, 100, action_date="2025-05-01"))
    index.put(
        "JPN01",
        action(
            "ACQ-1", 500, 600, "Acquisition", transferring_party_id="IDN", action_date="2025-05-01"
        ),
    )
    index.check(as_of=date(2025, 5, 20))  # within 30 days: nothing yet
    assert index.alerts("DC10") == [] and index.alerts("DC11") == []
    index.check(as_of=date(2025, 6, 30))
    assert [a["evidence"][0]["record_id"] for a in index.alerts("DC10")] == ["FT-1"]
    assert [a["evidence"][0]["record_id"] for a in index.alerts("DC11")] == ["ACQ-1"]
    # The matching acquisition arrives: DC10 resolves.
    index.put(
        "JPN01",
        action(
            "ACQ-2", 1, 100, "Acquisition", transferring_party_id="IDN", action_date="2025-05-02"
        ),
    )
    index.check(as_of=date(2025, 6, 30))
    assert [a["status"] for a in index.alerts("DC10")] == ["resolved"]


def test_dc10_not_raised_without_a_synced_registry_of_the_party(index: Index) -> None:
    index.put(
        "IDN01",
        authorization(authorized_party_ids=["KOR"]),
        first_transfer("FT-1", 1, 100, acquiring_party_id="KOR", action_date="2024-01-01"),
    )
    index.check()
    assert index.alerts("DC10") == []


def test_dc10_counts_a_registry_only_once_it_has_completed_a_sync(
    index: Index, engine: Engine
) -> None:
    """RULES.md: a registry only configured (or whose syncs all failed) does not count
    as synced; once a sync completes, the incremental check judges the transfer."""
    index.put(
        "IDN01",
        authorization(authorized_party_ids=["KOR"]),
        issuance("ISS-1", 1, 100),
        first_transfer("FT-1", 1, 100, acquiring_party_id="KOR", action_date="2024-01-01"),
    )
    with engine.begin() as connection:
        store_configured(connection, [RegistryConfig("KOR01", "", "KOR", {}, ())])
        sync_state.ensure_state(connection, "KOR01")
        sync_state.mark_failure(connection, "KOR01", "connection refused", None)
    index.check()
    assert index.alerts("DC10") == []
    with engine.begin() as connection:
        sync_state.mark_success(connection, "KOR01", datetime.now(UTC), None)
    summary = index.check()
    assert not summary.full and summary.opened == {"DC10": 1}


# -- DC12 ---------------------------------------------------------------------------------


def test_dc12_quantity_mismatch(index: Index) -> None:
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 100, quantity_tco2e=99),
        issuance("ISS-2", 101, 200, quantity_tco2e=100),
        issuance("ISS-3", 201, 300, quantity_tco2e=5, metric="non-GHG"),
    )
    index.check()
    [alert] = index.alerts("DC12")
    assert alert["evidence"][0]["record_id"] == "ISS-1" and alert["severity"] == "low"


def test_withdrawn_records_take_no_part(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 100))
    index.put("JPN01", issuance("ISS-9", 1, 100))
    index.check()
    index.put("JPN01", withdrawal({"record_type": "action", "action_id": "ISS-9"}))
    index.check()
    assert [a["status"] for a in index.alerts("DC01")] == ["resolved"]
