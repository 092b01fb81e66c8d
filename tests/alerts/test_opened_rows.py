"""What a first check writes: every new alert and its `opened` event, exactly.

The new alerts are written in bulk with their JSON serialized once (not through the
generic upsert); what reads back must be the alert RULES.md describes, built here from
the findings alone, and its event must carry that same alert."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from metareg.alerts import store
from metareg.alerts.events import events_page
from metareg.findings import Finding

AT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _findings() -> list[Finding]:
    return [
        Finding(
            "DC01",
            "double-issuance",
            "critical",
            "Units 1-100 issued twice",
            (("IDN01", "action", "ISS-1"), ("JPN01", "action", "ISS-9")),
            "CA0001",
            "IDN01",
            1,
            100,
            2024,
            "IDN",
        ),
        Finding(  # a holding's evidence and a message beyond ASCII
            "DC04",
            "multiple-holders",
            "critical",
            "Détenteurs multiples — «Ünits» 5–7 ✓",
            (
                ("IDN01", "holding", "2024-12-31|ACC-é|5"),
                ("KEN01", "holding", "2024-12-31|ACC-2|5"),
            ),
            "CA0001",
            "IDN01",
            5,
            7,
            2024,
            "IDN",
        ),
        Finding(  # no block (an authorization's alert), details of every JSON kind
            "DC07",
            "missing-authorization",
            "high",
            "No authorization",
            (("KEN01", "action", "TRF-3"),),
            "CA0002",
            scope="auth:CA0002|A-1",
            details={
                "quantity": 12.5,
                "ids": [1, 2, 3],
                "big": 2**70,  # beyond 64 bits
                "nested": {"ok": True, "none": None, "text": "naïve"},
            },
        ),
    ]


def _expected(finding: Finding) -> dict[str, Any]:
    """The alert object of a new alert, from RULES.md: built from the finding only."""
    parts = [
        finding.rule,
        *sorted(
            "\x1f".join((r, t, i.split("|", 1)[1] if t == "holding" and "|" in i else i))
            for r, t, i in finding.evidence
        ),
    ]
    fingerprint = hashlib.sha256("\x1e".join(parts).encode()).hexdigest()
    block = (
        finding.cooperative_approach_id,
        finding.party_registry_id,
        finding.first_transferring_party_id,
        finding.first_id,
        finding.last_id,
        finding.vintage,
    )
    return {
        "id": fingerprint[:16],
        "rule": finding.rule,
        "name": finding.name,
        "severity": finding.severity,
        "status": "open",
        "cooperative_approach_id": finding.cooperative_approach_id,
        "party_registry_id": finding.party_registry_id,
        "first_id": finding.first_id,
        "last_id": finding.last_id,
        "vintage": finding.vintage,
        "first_transferring_party_id": finding.first_transferring_party_id,
        "identifier": None if None in block else "-".join(str(p) for p in block),
        "registries": sorted({r for r, _, _ in finding.evidence}),
        "evidence": [
            {"registry": r, "record_type": t, "record_id": i} for r, t, i in finding.evidence
        ],
        "message": finding.message,
        "first_seen": "2026-03-04T05:06:07.890123Z",
        "last_seen": "2026-03-04T05:06:07.890123Z",
        "resolved_at": None,
    }


def test_a_first_check_stores_each_alert_and_its_opened_event_exactly(engine: Engine) -> None:
    findings = _findings()
    with engine.begin() as connection:
        result = store.reconcile(connection, [*findings, findings[0]], {}, AT)
    assert result.opened == {"DC01": 1, "DC04": 1, "DC07": 1}
    expected = [_expected(f) for f in findings]

    with engine.connect() as connection:
        stored = store.list_alerts(connection, limit=100)
        events = events_page(connection, None, 100)["events"]
        internal = {
            row.id: row
            for row in connection.execute(
                select(
                    store.alerts_table.c.id,
                    store.alerts_table.c.fingerprint,
                    store.alerts_table.c.scope,
                    store.alerts_table.c.registry_keys,
                    store.alerts_table.c.details,
                    store.alerts_table.c.acknowledged_at,
                    store.alerts_table.c.acknowledged_by,
                    store.alerts_table.c.note,
                )
            )
        }
    assert stored == sorted(expected, key=lambda a: a["id"])
    # One `opened` event per alert, in the order of the findings, carrying the alert.
    assert [(e["event"], e["alert"]) for e in events] == [("opened", a) for a in expected]
    assert {e["at"] for e in events} == {"2026-03-04T05:06:07.890123Z"}
    assert [int(e["cursor"]) for e in events] == sorted(int(e["cursor"]) for e in events)

    for finding, alert in zip(findings, expected, strict=True):
        row = internal[alert["id"]]
        assert row.fingerprint[:16] == alert["id"] and row.fingerprint == finding.fingerprint
        assert row.scope == finding.scope
        assert row.registry_keys == store.registry_keys(
            alert["registries"], finding.party_registry_id
        )
        assert row.details == finding.details
        assert (row.acknowledged_at, row.acknowledged_by, row.note) == (None, None, None)


def test_a_new_alert_then_reopened_reads_the_same_through_both_paths(engine: Engine) -> None:
    """The bulk path (new alerts) and the generic one (a reopened alert, read back)
    give one alert object: only its status and times move."""
    findings = _findings()
    with engine.begin() as connection:
        store.reconcile(connection, findings, {}, AT)
    later = datetime(2026, 3, 5, tzinfo=UTC)
    with engine.begin() as connection:
        existing = store.existing_in(connection, store.alerts_table.c.rule.like("DC%"))
        store.reconcile(connection, [], existing, later)  # every alert resolved
    with engine.begin() as connection:
        existing = store.existing_in(connection, store.alerts_table.c.rule.like("DC%"))
        result = store.reconcile(connection, findings, existing, later)
    assert result.reopened == {"DC01": 1, "DC04": 1, "DC07": 1}
    with engine.connect() as connection:
        events = events_page(connection, None, 100)["events"]
    assert [e["event"] for e in events] == ["opened"] * 3 + ["resolved"] * 3 + ["reopened"] * 3
    moved = ("status", "last_seen", "resolved_at")
    opened = {e["alert"]["id"]: e["alert"] for e in events[:3]}
    for event in events[6:]:
        alert = event["alert"]
        assert {k: v for k, v in alert.items() if k not in moved} == {
            k: v for k, v in opened[alert["id"]].items() if k not in moved
        }
        assert (alert["status"], alert["resolved_at"]) == ("open", None)


def test_findings_outside_the_scope_given_find_their_stored_alerts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding whose alert the caller did not hand in (it lies outside the scope the
    check read) is looked up by fingerprint, a chunk of fingerprints per statement: a
    resolved alert reopens, an open one stays open, neither is opened again (on both
    databases; chunks of one fingerprint)."""
    monkeypatch.setattr(store, "LOOKUP_CHUNK", 1)
    findings = _findings()
    with engine.begin() as connection:
        store.reconcile(connection, findings, {}, AT)
    with engine.begin() as connection:
        existing = store.existing_in(connection, store.alerts_table.c.rule == "DC01")
        result = store.reconcile(connection, findings[1:], existing, AT)
    assert result.resolved == {"DC01": 1}
    with engine.begin() as connection:
        result = store.reconcile(connection, findings, {}, AT)
    assert (result.opened, result.reopened, result.resolved) == ({}, {"DC01": 1}, {})
    with engine.connect() as connection:
        counts = store.count_by_rule(connection)
    assert {rule: c["open"] for rule, c in counts.items()} == {"DC01": 1, "DC04": 1, "DC07": 1}
