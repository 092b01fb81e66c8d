"""The alert lifecycle of RULES.md: never duplicated, resolved and reopened on their
own, acknowledged by a person until resolved; every change an event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from metareg.alerts import store
from metareg.alerts.events import events_page
from metareg.alerts.operational import raise_operational, resolve_operational
from tests.alerts.conftest import Index
from tests.helpers import action, authorization, holding

RULES_FIELDS = {
    "id",
    "rule",
    "name",
    "severity",
    "status",
    "cooperative_approach_id",
    "party_registry_id",
    "first_id",
    "last_id",
    "vintage",
    "first_transferring_party_id",
    "identifier",
    "registries",
    "evidence",
    "message",
    "first_seen",
    "last_seen",
    "resolved_at",
}


def _conflict(index: Index) -> None:
    index.put("IDN01", action("ISS-1", 1, 100))
    index.put("JPN01", action("ISS-9", 50, 150))


def _events(index: Index) -> list[tuple[str, str]]:
    with index.engine.connect() as connection:
        return [
            (e["event"], e["alert"]["id"]) for e in events_page(connection, None, 1000)["events"]
        ]


def test_rerunning_checks_never_duplicates_alerts(index: Index) -> None:
    _conflict(index)
    index.check()
    index.check()
    index.check(full=True)
    index.put("IDN01", action("ISS-1", 1, 100))  # the same record again
    index.check()
    [alert] = index.alerts()
    assert set(alert) == RULES_FIELDS
    assert alert["evidence"] == [
        {"registry": "IDN01", "record_type": "action", "record_id": "ISS-1"},
        {"registry": "JPN01", "record_type": "action", "record_id": "ISS-9"},
    ]
    assert _events(index) == [("opened", alert["id"])]


def test_an_alert_names_its_range_as_an_itmo_identifier(index: Index) -> None:
    _conflict(index)
    index.check()
    [alert] = index.alerts()
    assert (alert["vintage"], alert["first_transferring_party_id"]) == (2023, "IDN")
    assert alert["identifier"] == "CA0001-IDN01-IDN-50-100-2023"
    with index.engine.connect() as connection:
        event = events_page(connection, None, 10)["events"][0]
    assert event["alert"]["identifier"] == alert["identifier"]


def test_a_newer_snapshot_of_the_same_holding_keeps_its_alert(index: Index) -> None:
    """A holding's evidence identity leaves out `as_of`: the conflict carried by the
    next snapshot of the same account and block is the same alert, not a new one."""
    index.put("IDN01", action("ISS-1", 1, 100), holding("GOV", 1, 100, as_of="2024-06-30"))
    index.put("JPN01", holding("J", 1, 100, as_of="2024-09-30"))
    index.check()
    [before] = index.alerts("DC04")
    index.put("JPN01", holding("J", 1, 100, as_of="2024-12-31"))
    index.check()
    [after] = index.alerts("DC04")
    assert after["id"] == before["id"] and after["status"] == "open"
    assert "2024-12-31|J|" in str(after["evidence"])  # the evidence names the new row
    assert [e for e in _events(index) if e[1] == before["id"]] == [("opened", before["id"])]


def test_acknowledged_stays_acknowledged_until_resolved_then_reopens_open(index: Index) -> None:
    _conflict(index)
    index.check()
    [alert] = index.alerts()
    with index.engine.begin() as connection:
        acked = store.acknowledge(connection, alert["id"], "registry asked to correct", by="ana")
    assert acked["status"] == "acknowledged"
    index.check(full=True)
    assert index.alerts()[0]["status"] == "acknowledged"
    with index.engine.connect() as connection:
        ack = store.get_acknowledgement(connection, alert["id"])
    assert ack is not None and ack["note"] == "registry asked to correct" and ack["by"] == "ana"
    index.put("JPN01", action("ISS-9", 101, 150))
    index.check()
    assert index.alerts()[0]["status"] == "resolved"
    with index.engine.begin() as connection, pytest.raises(store.AlertError):
        store.acknowledge(connection, alert["id"], "too late")
    index.put("JPN01", action("ISS-9", 90, 150))
    index.check()
    assert index.alerts()[0]["status"] == "open"
    assert [kind for kind, _ in _events(index)] == [
        "opened",
        "acknowledged",
        "resolved",
        "reopened",
    ]
    with index.engine.connect() as connection:
        page = events_page(connection, None, 10)
    assert page["events"][1]["note"] == "registry asked to correct"


def test_acknowledging_needs_a_known_alert_and_a_note(index: Index) -> None:
    _conflict(index)
    index.check()
    [alert] = index.alerts()
    with index.engine.begin() as connection:
        with pytest.raises(store.AlertError, match="no alert"):
            store.acknowledge(connection, "nope", "note")
        with pytest.raises(store.AlertError, match="note"):
            store.acknowledge(connection, alert["id"], "  ")
    assert index.alerts()[0]["status"] == "open"


def test_list_filters_and_counts(index: Index) -> None:
    _conflict(index)
    index.put("MNG01", action("X-1", 1, 10, quantity_tco2e=3, party_registry_id="MNG01"))
    index.check()
    with index.engine.connect() as connection:
        assert {a["rule"] for a in store.list_alerts(connection)} == {"DC01", "DC12"}
        assert [a["rule"] for a in store.list_alerts(connection, registry="JPN01")] == ["DC01"]
        assert [a["rule"] for a in store.list_alerts(connection, registry="MNG01")] == ["DC12"]
        assert store.list_alerts(connection, rule="dc05") == []
        first = store.list_alerts(connection, limit=1)
        rest = store.list_alerts(connection, after_id=first[0]["id"])
        assert len(first) + len(rest) == 2
        counts = store.count_alerts(connection)
        assert counts["total"] == 2 and counts["by_rule"]["DC01"]["open"] == 1
        touching = store.alerts_touching(connection, "CA0001", "IDN01", 100, 200)
        assert [a["rule"] for a in touching] == ["DC01"]
        assert store.alerts_touching(connection, "CA0001", "IDN01", 101, 200) == []
        with pytest.raises(store.AlertError):
            store.list_alerts(connection, status="closed")


def test_the_alerts_touching_a_range_include_one_as_long_as_the_pairs_longest_block(
    index: Index,
) -> None:
    """What an ITMO's page and the authorization check list: every unresolved alert on
    the range, the one that starts a whole longest block before it included, and those
    of the pair's other blocks left out."""
    index.put("IDN01", action("ISS-1", 1, 1000))  # the pair's longest block, issued twice
    index.put("JPN01", action("ISS-9", 1, 1000))
    for n in range(4):  # short blocks further on, each issued twice
        first = 2000 + 100 * n
        index.put("IDN01", action(f"ISS-S{n}", first, first + 9))
        index.put("JPN01", action(f"ISS-T{n}", first, first + 9))
    index.check()

    def touching(first: int, last: int) -> list[tuple[str, int, int]]:
        with index.engine.connect() as connection:
            found = store.alerts_touching(connection, "CA0001", "IDN01", first, last)
        return [(a["rule"], a["first_id"], a["last_id"]) for a in found]

    assert touching(1000, 1000) == [("DC01", 1, 1000)]
    assert touching(999, 2000) == [("DC01", 1, 1000), ("DC01", 2000, 2009)]
    assert touching(2105, 2305) == [
        ("DC01", 2100, 2109),
        ("DC01", 2200, 2209),
        ("DC01", 2300, 2309),
    ]
    assert touching(1001, 1999) == []
    assert touching(2310, 5000) == []


def test_operational_alerts_one_per_code_and_registry(index: Index) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    t1 = datetime(2025, 1, 2, tzinfo=UTC)
    with index.engine.begin() as connection:
        raise_operational(connection, "SY01", "JPN01", "no sync for 3 h", now=t0)
        raise_operational(connection, "SY01", "JPN01", "no sync for 4 h", now=t1)
        raise_operational(connection, "SY03", "JPN01", "2 records quarantined", details={"n": 2})
    alerts = {a["rule"]: a for a in index.alerts()}
    assert set(alerts) == {"SY01", "SY03"}
    sy01 = alerts["SY01"]
    assert sy01["message"] == "no sync for 4 h" and sy01["severity"] == "high"
    assert sy01["first_seen"].startswith("2025-01-01") and sy01["last_seen"].startswith(
        "2025-01-02"
    )
    assert sy01["registries"] == ["JPN01"]
    with index.engine.begin() as connection:
        resolve_operational(connection, "SY01", "JPN01")
        resolve_operational(connection, "SY01", "JPN01")  # nothing left to resolve
        resolve_operational(connection, "SY02", "IDN01")  # never raised
        raise_operational(connection, "SY01", "JPN01", "down again")
    [again] = [a for a in index.alerts() if a["rule"] == "SY01"]
    assert again["id"] == sy01["id"] and again["status"] == "open"
    assert [k for k, aid in _events(index) if aid == sy01["id"]] == [
        "opened",
        "resolved",
        "reopened",
    ]
    # A detection check never resolves operational alerts.
    index.check(full=True)
    assert {a["rule"] for a in index.alerts(status="open")} == {"SY01", "SY03"}
    with index.engine.begin() as connection, pytest.raises(ValueError):
        raise_operational(connection, "DC01", "JPN01", "not operational")


def test_a_confirmed_alert_moves_last_seen_and_takes_a_changed_message(index: Index) -> None:
    """Re-running the checks only moves `last_seen` of an alert found as it stands; a
    correction that changes what the finding says (same evidence) rewrites it."""
    _conflict(index)
    index.check()
    [first] = index.alerts()
    index.check(full=True)
    [again] = index.alerts()
    assert again["last_seen"] > first["last_seen"] and again["first_seen"] == first["first_seen"]
    assert {k: v for k, v in again.items() if k != "last_seen"} == {
        k: v for k, v in first.items() if k != "last_seen"
    }
    index.put("JPN01", action("ISS-9", 60, 150))  # a correction of the same action
    index.check(full=True)
    [corrected] = index.alerts()
    assert corrected["id"] == first["id"] and corrected["status"] == "open"
    assert (corrected["first_id"], corrected["last_id"]) == (60, 100)
    assert "60-100" in corrected["message"] and corrected["message"] != first["message"]
    assert _events(index) == [("opened", first["id"])]


def test_an_opened_event_carries_the_alert_as_stored(index: Index) -> None:
    """The snapshot in an `opened` event is built from the row just written; it must be
    the alert exactly as it reads back from the store."""
    _conflict(index)
    index.check()
    [alert] = index.alerts()
    with index.engine.connect() as connection:
        [event] = events_page(connection, None, 10)["events"]
    assert event["event"] == "opened" and event["alert"] == alert


def test_a_checks_summary_counts_the_alerts_by_rule_and_status(index: Index) -> None:
    _conflict(index)  # DC01: ISS-1 and ISS-9
    index.put("IDN01", action("ISS-2", 300, 310, quantity_tco2e=3))  # DC12
    index.put("JPN01", action("ISS-8", 400, 420))
    index.put("IDN01", action("ISS-3", 410, 430))  # DC01: ISS-3 and ISS-8
    index.check()
    [kept] = [
        a
        for a in index.alerts(rule="DC01")
        if {e["record_id"] for e in a["evidence"]} == {"ISS-1", "ISS-9"}
    ]
    with index.engine.begin() as connection:
        store.acknowledge(connection, kept["id"], "asked the registry")
    index.put("IDN01", action("ISS-3", 500, 520))  # moved away: its DC01 alert resolves
    summary = index.check()
    with index.engine.connect() as connection:
        by_rule = store.count_alerts(connection)["by_rule"]
    assert by_rule["DC01"] == {"open": 0, "acknowledged": 1, "resolved": 1}
    assert summary.open == {"DC12": 1}
    assert summary.acknowledged == {"DC01": 1}
    assert summary.resolved == {"DC01": 1}


def _log_rewrites(index: Index) -> None:
    """Note every alert whose stored content an UPDATE sets (even to the same values)."""
    content = "message, evidence, details, registries, first_id, last_id"
    with index.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE rewritten (alert_id VARCHAR(16))")
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                f"CREATE TRIGGER note_rewrite AFTER UPDATE OF {content} ON alert "
                "BEGIN INSERT INTO rewritten VALUES (new.id); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION note_rewrite() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN INSERT INTO rewritten VALUES (NEW.id); RETURN NEW; END $$"
            )
            connection.exec_driver_sql(
                f"CREATE TRIGGER note_rewrite AFTER UPDATE OF {content} ON alert "
                "FOR EACH ROW EXECUTE FUNCTION note_rewrite()"
            )


def _rewritten(index: Index) -> set[str]:
    with index.engine.connect() as connection:
        return {row[0] for row in connection.exec_driver_sql("SELECT alert_id FROM rewritten")}


def test_an_incremental_check_confirms_the_alerts_it_judges_again_without_rewriting_them(
    index: Index,
) -> None:
    """A change re-judges its ranges and keys; the alerts there that the incremental
    check finds as they stand (a block rule's, an authorization rule's) only move
    `last_seen`, as a full check's do. A finding that says something new still rewrites
    its alert."""
    _conflict(index)  # DC01 on ISS-1 and ISS-9
    transfer = action(
        "TRF-1", 20, 30, "First transfer", authorization_id="IDN-NONE", acquiring_party_id="JPN"
    )
    to_kor = action(
        "TRF-2",
        40,
        50,
        "First transfer",
        authorization_id="IDN-2023-0001",
        acquiring_party_id="KOR",
    )
    index.put("IDN01", authorization())  # for JPN only
    index.put("IDN01", transfer, to_kor)  # DC07: no registry reports IDN-NONE; DC09: KOR
    index.check()
    before = {a["id"]: a for a in index.alerts()}
    assert {a["rule"] for a in before.values()} >= {"DC01", "DC07", "DC09"}
    _log_rewrites(index)

    # Changes the findings do not depend on: both alerts' ranges and key are judged again.
    index.put("IDN01", action("ISS-1", 1, 100, sectors=["energy"]))
    index.put("IDN01", *({**record, "sectors": ["energy"]} for record in (transfer, to_kor)))
    summary = index.check()
    assert not summary.full
    after = {a["id"]: a for a in index.alerts()}
    assert after.keys() == before.keys()
    for alert_id, alert in after.items():
        assert alert["last_seen"] > before[alert_id]["last_seen"], alert["rule"]
        assert {k: v for k, v in alert.items() if k != "last_seen"} == {
            k: v for k, v in before[alert_id].items() if k != "last_seen"
        }
    assert {after[a]["rule"] for a in _rewritten(index)} == set()

    index.put("JPN01", action("ISS-9", 60, 150))  # DC01 now says 60-100: rewritten
    index.check()
    [dc01] = [a for a in index.alerts() if a["rule"] == "DC01"]
    assert (dc01["first_id"], dc01["last_id"]) == (60, 100)
    assert _rewritten(index) == {dc01["id"]}
