"""DC15 and DC16 on planted worlds, and DC03's reappearance: ITMO issuances resting on
programme units (real Verra, Gold Standard and Cercarbono serial shapes) against what
the programme reports about those units. On SQLite and PostgreSQL, full and
incremental checks alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.detection.conftest import Index
from tests.helpers import action, withdrawal

VERRA = "19385-{}-{}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
GS = "GS1-1-UG-GS11236-16-2024-30307-{}-{}"
CDC = "CDC_1_1_1_321_14_1_2008"


def issuance(action_id: str, first: int, last: int, programme: str, unit: str, **extra: Any):
    return action(
        action_id,
        first,
        last,
        "Issuance",
        underlying_registry_id=programme,
        first_unit_id=unit,
        last_unit_id=unit,
        **extra,
    )


def status(status_id: str, programme: str, unit: str, state: str, **extra: Any) -> dict:
    return {
        "record_type": "unit_status",
        "status_id": status_id,
        "underlying_registry_id": programme,
        "first_unit_id": unit,
        "last_unit_id": unit,
        "status": state,
        "status_date": "2024-05-01",
        **extra,
    }


def open_alerts(index: Index, rule: str) -> list[dict[str, Any]]:
    return [a for a in index.alerts(rule) if a["status"] == "open"]


@pytest.mark.parametrize("full", [True, False])
def test_dc15_vcus_retired_for_a_voluntary_claim(index: Index, full: bool) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 425, "VCS", VERRA.format(941467007, 941467431)))
    index.put(
        "VCS",
        status(
            "R-1",
            "VCS",
            VERRA.format(941467100, 941467199),
            "retired",
            purpose="voluntary",
            beneficiary="Acme Corp",
        ),
    )
    index.check(full=full)
    [alert] = open_alerts(index, "DC15")
    assert alert["name"] == "underlying-units-claimed-elsewhere"
    assert alert["severity"] == "critical"
    assert (alert["first_id"], alert["last_id"]) == (1, 425)
    assert alert["registries"] == ["IDN01", "VCS"]
    assert {(e["registry"], e["record_type"], e["record_id"]) for e in alert["evidence"]} == {
        ("IDN01", "action", "ISS-1"),
        ("VCS", "unit_status", "R-1"),
    }
    assert "voluntary" in alert["message"] and "Acme Corp" in alert["message"]


def test_dc15_near_misses(index: Index) -> None:
    index.put(
        "IDN01",
        issuance("ISS-1", 1, 425, "VCS", VERRA.format(941467007, 941467431)),
        issuance("ISS-2", 1001, 1100, "GS", GS.format(1, 100)),
    )
    index.put(
        "VCS",
        # The same units retired for Article 6: not claimed elsewhere.
        status("R-A6", "VCS", VERRA.format(941467007, 941467431), "retired", purpose="article6"),
        # Touching on either side: no unit shared.
        status("R-BEFORE", "VCS", VERRA.format(941467000, 941467006), "retired"),
        status("R-AFTER", "VCS", VERRA.format(941467432, 941467500), "retired"),
        # Another batch with the same block numbers.
        status(
            "R-OTHER",
            "VCS",
            VERRA.format(941467007, 941467431).replace("19385-", "19386-"),
            "retired",
        ),
        # Only issued.
        status("I-1", "VCS", VERRA.format(941467007, 941467431), "issued"),
    )
    # The same block numbers under another programme.
    index.put("GS", status("GS-R", "GS", GS.format(101, 200), "retired", purpose="voluntary"))
    index.check(full=True)
    assert index.alerts("DC15") == []
    index.check()
    assert index.alerts("DC15") == []


def test_dc15_incremental_raises_and_resolves_as_the_programme_reports(index: Index) -> None:
    index.put("IDN01", issuance("ISS-1", 1, 425, "VCS", VERRA.format(941467007, 941467431)))
    index.check()
    assert index.alerts("DC15") == []
    index.put("VCS", status("R-1", "VCS", VERRA.format(941467431, 941467431), "cancelled"))
    index.check()
    [alert] = open_alerts(index, "DC15")
    assert "cancelled" in alert["message"] and "unknown purpose" in alert["message"]
    # The programme corrects the purpose: the alert resolves on its own.
    index.put(
        "VCS",
        status("R-1", "VCS", VERRA.format(941467431, 941467431), "cancelled", purpose="article6"),
    )
    index.check()
    [resolved] = index.alerts("DC15")
    assert resolved["id"] == alert["id"] and resolved["status"] == "resolved"
    # ... and the full check agrees.
    index.check(full=True)
    assert open_alerts(index, "DC15") == []


def test_dc15_batch_id_sources_match_by_the_batch_id_exactly(index: Index) -> None:
    index.put(
        "COL01",
        issuance("ISS-C", 1, 100, "CERCARBONO", CDC),
        issuance("ISS-D", 201, 300, "CERCARBONO", CDC + "_BF"),
    )
    index.put(
        "CERCARBONO",
        status("R-C", "CERCARBONO", CDC, "retired", purpose="compliance"),
        # A batch whose id begins like the other's is another batch.
        status("R-E", "CERCARBONO", CDC + "_X", "retired", purpose="voluntary"),
    )
    index.check(full=True)
    [alert] = open_alerts(index, "DC15")
    assert {e["record_id"] for e in alert["evidence"]} == {"ISS-C", "R-C"}


@pytest.mark.parametrize("full", [True, False])
def test_dc16_gs_units_labelled_not_authorized(index: Index, full: bool) -> None:
    index.put(
        "GHA01",
        issuance("ISS-N", 1, 100, "GS", GS.format(1, 100)),
        issuance("ISS-A", 101, 200, "GS", GS.format(101, 200)),
        issuance("ISS-U", 201, 300, "GS", GS.format(201, 300)),
    )
    index.put(
        "GS",
        status("I-N", "GS", GS.format(1, 50), "issued", article6_label="not-authorized"),
        status("I-A", "GS", GS.format(101, 200), "issued", article6_label="authorized"),
        # Unlabelled in an export that does not label: the programme has not said.
        status("I-U", "GS", GS.format(201, 300), "issued"),
        # Touching the authorized block: shares no unit with it.
        status("I-T", "GS", GS.format(100, 100), "issued", article6_label="not-authorized"),
    )
    index.check(full=full)
    alerts = open_alerts(index, "DC16")
    assert sorted(tuple(sorted(e["record_id"] for e in a["evidence"])) for a in alerts) == [
        ("I-N", "ISS-N"),
        ("I-T", "ISS-N"),
    ]
    assert {a["severity"] for a in alerts} == {"high"}
    assert index.alerts("DC15") == []


def test_dc16_resolves_when_the_status_is_withdrawn(index: Index) -> None:
    index.put("GHA01", issuance("ISS-N", 1, 100, "GS", GS.format(1, 100)))
    index.put(
        "GS", status("I-N", "GS", GS.format(1, 50), "issued", article6_label="not-authorized")
    )
    index.check()
    [alert] = open_alerts(index, "DC16")
    index.put("GS", withdrawal({"record_type": "unit_status", "status_id": "I-N"}))
    index.check()
    [resolved] = index.alerts("DC16")
    assert resolved["id"] == alert["id"] and resolved["status"] == "resolved"


def test_dc03_the_same_issuance_seen_twice_is_not_a_reissuance(index: Index) -> None:
    """The same Verra issuance reported by the Party registry and by a second reporter
    that numbers ITMOs its own way (the same export loaded twice): a reappearance."""
    unit = VERRA.format(941467007, 941467431)
    index.put("IDN01", issuance("VCS-19385", 1, 425, "VCS", unit))
    index.put("IDN02", issuance("VCS-19385", 1001, 1425, "VCS", unit))
    index.check(full=True)
    assert index.alerts("DC03") == []
    # A second issuance of the same units in the same chain is a re-issuance.
    index.put("IDN01", issuance("VCS-19385-AGAIN", 2001, 2425, "VCS", unit))
    index.check()
    alerts = open_alerts(index, "DC03")
    assert len(alerts) == 2
    assert all("VCS-19385-AGAIN" in {e["record_id"] for e in a["evidence"]} for a in alerts)
