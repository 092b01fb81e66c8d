"""The authorization rules as the CMA decided them (issue 13): authoritative, dated
versions, DC13 and DC14, DC09's entity clause, first transfers for OIMP without a
buyer. Each clause with its near miss (the same day, identical content repeated, a use
of units first transferred before a revocation, touching ranges), on both backends."""

from __future__ import annotations

from datetime import date
from typing import Any

from metareg.registries import RegistryConfig, store_configured
from tests.detection.conftest import Index
from tests.detection.test_rules import first_transfer, issuance, use
from tests.helpers import action, authorization

AUTH = "IDN-2023-0001"
# The authorization, and its version 2 revoking it on 1 May 2024.
REVOKED_ON_1_MAY = (
    authorization(),
    authorization(version=2, authorization_date="2024-05-01", status="revoked"),
)


def evidence(alert: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["registry"], e["record_id"]) for e in alert["evidence"]]


def flagged(index: Index, rule: str) -> list[str]:
    """The actions (or, for DC14, the records) the open alerts of a rule name first."""
    return sorted(a["evidence"][0]["record_id"] for a in index.alerts(rule, status="open"))


# -- DC13 -----------------------------------------------------------------------------------


def test_dc13_action_before_the_first_version_and_the_same_day(index: Index) -> None:
    index.put("IDN01", authorization(authorization_date="2024-03-01", purposes=["NDC"]))
    index.put(
        "IDN01",
        first_transfer("FT-EARLY", 1, 10, action_date="2024-02-29"),
        first_transfer("FT-SAME-DAY", 11, 20, action_date="2024-03-01"),
    )
    index.put(
        "JPN01",
        use("USE-EARLY", 21, 30, action_date="2024-02-01"),  # no first transfer: its own date
        use("USE-LATER", 1, 10, action_date="2024-06-01"),  # its units' first transfer: early,
    )  # but the use itself is not before the authorization
    index.check()
    # One alert per action: FT-EARLY and USE-EARLY (the same day is the near miss).
    assert flagged(index, "DC13") == ["FT-EARLY", "USE-EARLY"]
    assert all(evidence(a)[1] == ("IDN01", f"{AUTH}#v1") for a in index.alerts("DC13"))
    # Judged against the first version meanwhile: the authorization exists (no DC07).
    assert index.alerts("DC07") == [] and index.alerts("DC08") == []


def test_dc13_compares_with_the_first_version_not_the_latest(index: Index) -> None:
    index.put(
        "IDN01",
        authorization(authorization_date="2023-03-01"),
        authorization(version=2, authorization_date="2024-06-01", authorized_quantity=300000),
        first_transfer("FT-1", 1, 10, action_date="2024-02-01"),
    )
    index.check()
    assert index.alerts("DC13") == []


def test_dc13_not_raised_for_an_authorization_only_a_foreign_registry_states(
    index: Index,
) -> None:
    index.put("JPN01", authorization(authorization_date="2024-03-01"))  # Indonesia's, by Japan
    index.put("IDN01", first_transfer("FT-1", 1, 10, action_date="2024-02-01"))
    index.check()
    assert flagged(index, "DC07") == ["FT-1"]  # counts as absent
    assert index.alerts("DC13") == []


# -- DC14 -----------------------------------------------------------------------------------


def test_dc14_foreign_registry_states_other_content_or_another_version(index: Index) -> None:
    index.put("IDN01", authorization(authorized_quantity=1000))
    index.put(
        "THA01",
        authorization(authorized_quantity=10**9),  # version 1, other content
        authorization(version=99, authorized_quantity=10**9, purposes=["NDC", "OIMP"]),
    )
    index.check()
    by_record = {a["evidence"][0]["record_id"]: a for a in index.alerts("DC14")}
    assert sorted(by_record) == [f"{AUTH}#v1", f"{AUTH}#v99"]
    assert evidence(by_record[f"{AUTH}#v1"]) == [("THA01", f"{AUTH}#v1"), ("IDN01", f"{AUTH}#v1")]
    assert evidence(by_record[f"{AUTH}#v99"]) == [("THA01", f"{AUTH}#v99")]
    assert "authorized_quantity" in by_record[f"{AUTH}#v1"]["message"]
    alert = by_record[f"{AUTH}#v99"]
    assert alert["severity"] == "high" and alert["cooperative_approach_id"] == "CA0001"
    assert "THA01" in alert["message"] and "IDN" in alert["message"]


def test_dc14_near_miss_a_foreign_registry_repeating_identical_content(index: Index) -> None:
    index.put("IDN01", authorization(terms="as agreed"))
    index.put("JPN01", authorization(terms="as agreed"))
    index.check()
    assert index.alerts("DC14") == []
    # The authoritative registry corrects its version: the repetition now contradicts it.
    index.put("IDN01", authorization(terms="as amended"))
    index.check()
    assert flagged(index, "DC14") == [f"{AUTH}#v1"]
    # ... and the foreign registry follows: resolved.
    index.put("JPN01", authorization(terms="as amended"))
    index.check()
    assert [a["status"] for a in index.alerts("DC14")] == ["resolved"]


def _configure(index: Index, *configs: RegistryConfig) -> None:
    with index.engine.begin() as connection:
        store_configured(connection, list(configs))


def test_a_registry_acting_for_a_party_states_its_authorizations(index: Index) -> None:
    """The international registry (acts_for) states Vanuatu's authorization: it judges
    actions and raises no DC14; when it no longer acts for Vanuatu, an incremental
    check finds both."""
    _configure(index, RegistryConfig("CHE01", "international registry", "CHE", {}, ("VUT",)))
    vanuatu = {"authorizing_party_id": "VUT", "purposes": ["OIMP"]}
    index.put("CHE01", authorization(**vanuatu))
    index.put("IDN01", first_transfer("FT-1", 1, 10), use("USE-1", 1, 10, purpose="NDC"))
    index.check(full=True)
    assert flagged(index, "DC08") == ["USE-1"] and index.alerts("DC14") == []
    _configure(index, RegistryConfig("CHE01", "international registry", "CHE", {}, ()))
    summary = index.check()
    assert not summary.full
    assert flagged(index, "DC14") == [f"{AUTH}#v1"]
    assert flagged(index, "DC07") == ["FT-1", "USE-1"] and flagged(index, "DC08") == []


# -- dated versions -------------------------------------------------------------------------


def test_a_later_version_judges_from_its_date_on_and_never_reaches_back(index: Index) -> None:
    index.put(
        "IDN01",
        authorization(purposes=["NDC", "OIMP"]),
        authorization(version=2, authorization_date="2024-05-01", purposes=["NDC"]),
        first_transfer("FT-BEFORE", 1, 10, action_date="2024-04-30"),
        first_transfer("FT-AFTER", 11, 20, action_date="2024-05-01"),
    )
    index.put(
        "JPN01",
        use("USE-BEFORE", 1, 10, purpose="OIMP", action_date="2024-09-01"),
        use("USE-AFTER", 11, 20, purpose="OIMP", action_date="2024-09-01"),
    )
    index.check()
    [alert] = index.alerts("DC08")
    assert evidence(alert) == [("JPN01", "USE-AFTER"), ("IDN01", f"{AUTH}#v2")]


def test_a_revocation_stops_first_transfers_not_uses_of_units_transferred_before(
    index: Index,
) -> None:
    index.put(
        "IDN01",
        *REVOKED_ON_1_MAY,
        first_transfer("FT-BEFORE", 1, 10, action_date="2024-04-30"),
        first_transfer("FT-AFTER", 11, 20, action_date="2024-05-02"),
    )
    index.put("JPN01", use("USE-OF-EARLIER-UNITS", 1, 10, action_date="2024-09-01"))
    index.check()
    [alert] = index.alerts("DC08")
    assert evidence(alert) == [("IDN01", "FT-AFTER"), ("IDN01", f"{AUTH}#v2")]
    assert "revoked" in alert["message"]


def test_first_transfers_in_touching_ranges_cover_a_use_together(index: Index) -> None:
    index.put(
        "IDN01",
        *REVOKED_ON_1_MAY,
        first_transfer("FT-A", 1, 50, action_date="2024-03-01"),
        first_transfer("FT-B", 51, 100, action_date="2024-04-01"),  # touches FT-A
        first_transfer("FT-C", 151, 200, action_date="2024-03-01"),
        first_transfer("FT-D", 202, 250, action_date="2024-03-01"),  # 201 never transferred
        first_transfer("FT-E", 301, 350, action_date="2024-03-01"),
    )
    index.put(
        "JPN01",
        use("USE-COVERED", 1, 100, action_date="2024-09-01"),
        use("USE-GAP", 151, 250, action_date="2024-09-01"),
        use("USE-TOUCHING", 351, 360, action_date="2024-09-01"),  # no first transfer overlaps
    )
    index.check()
    # Covered by FT-A and FT-B, first transferred before the revocation: authorized. The
    # others are judged on their own date, after it.
    assert flagged(index, "DC08") == ["USE-GAP", "USE-TOUCHING"]


def test_dc09_each_first_transfer_against_the_quantity_of_its_version(index: Index) -> None:
    index.put(
        "IDN01",
        authorization(authorized_quantity=100),
        authorization(version=2, authorization_date="2024-05-01", authorized_quantity=50),
        first_transfer("FT-1", 1, 60, action_date="2024-03-01"),  # 60 <= 100
        first_transfer("FT-2", 61, 70, action_date="2024-06-01"),  # 70 > 50
    )
    index.check()
    [alert] = index.alerts("DC09")
    assert evidence(alert) == [("IDN01", "FT-2"), ("IDN01", f"{AUTH}#v2")]
    assert "70" in alert["message"] and "50" in alert["message"]


# -- DC09's entity clause, first transfers for OIMP -----------------------------------------


def test_dc09_entity_clause_and_its_near_misses(index: Index) -> None:
    index.put(
        "IDN01", authorization(authorized_entity_ids=["JP-ENTITY-1"], purposes=["NDC", "OIMP"])
    )
    index.put(
        "JPN01",
        use("USE-OTHER", 1, 10, using_entity_id="JP-ENTITY-2"),
        use("USE-LISTED", 11, 20, using_entity_id="JP-ENTITY-1"),
        use("USE-NONE", 21, 30),
        action(
            "CAN-OTHER",
            31,
            40,
            "Cancellation",
            authorization_id=AUTH,
            purpose="OIMP",
            using_entity_id="JP-ENTITY-2",
            action_date="2024-06-01",
        ),
    )
    index.put("IDN01", authorization("IDN-2023-0002"))  # no list: any entity
    index.put(
        "JPN01", use("USE-ANY", 41, 50, authorization_id="IDN-2023-0002", using_entity_id="X")
    )
    index.check()
    assert flagged(index, "DC09") == ["CAN-OTHER", "USE-OTHER"]
    assert all("JP-ENTITY-2" in a["message"] for a in index.alerts("DC09"))


def test_first_transfers_for_oimp_without_a_buyer_count_towards_dc09(index: Index) -> None:
    index.put("IDN01", authorization(authorized_quantity=15, purposes=["OIMP"]))
    oimp = {"acquiring_party_id": None, "action_subtype": "Issuance", "action_date": "2024-01-15"}
    records = [first_transfer("FT-OIMP", 1, 10, **oimp), first_transfer("FT-2", 11, 20)]
    for record in records:
        if record["acquiring_party_id"] is None:
            del record["acquiring_party_id"]
    index.put("IDN01", *records)
    index.check(as_of=date(2025, 6, 30))
    # 10 + 10 > 15 from FT-2 on; FT-OIMP names no Party (no party reason, no DC10).
    assert flagged(index, "DC09") == ["FT-2"]
    assert index.alerts("DC10") == [] and index.alerts("DC07") == []


def test_an_issuance_is_not_judged(index: Index) -> None:
    index.put(
        "IDN01", authorization(authorization_date="2024-03-01"), issuance("ISS-1", 1, 10)
    )  # dated 2024-02-01: before the authorization, but issuances need none
    index.check()
    assert index.alerts("DC13") == []


def test_an_incremental_check_judges_a_new_use_as_of_its_units_first_transfer(
    index: Index,
) -> None:
    index.put(
        "IDN01",
        *REVOKED_ON_1_MAY,
        issuance("ISS-1", 1, 20),
        first_transfer("FT-1", 1, 10, action_date="2024-03-01"),
    )
    assert index.check().full
    index.put(
        "JPN01",
        action("ACQ-1", 1, 10, "Acquisition", transferring_party_id="IDN"),
        use("USE-OF-EARLIER-UNITS", 1, 10, action_date="2024-09-01"),
        use("USE-OF-OTHER-UNITS", 11, 20, action_date="2024-09-01"),
    )
    summary = index.check()
    assert not summary.full and summary.opened == {"DC08": 1}
    assert flagged(index, "DC08") == ["USE-OF-OTHER-UNITS"]
    again = index.check(full=True)
    assert (again.opened, again.resolved) == ({}, {})
