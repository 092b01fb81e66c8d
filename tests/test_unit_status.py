"""`unit_status` records (RECORDS.md): validated against their schema file (invalid
ones quarantined with reasons), stored with history and provenance like every record,
their unit ranges parsed when written by the serial parsers and found by range per
programme. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from metareg.db.tables.index import RecordVersion, UnitStatus
from metareg.oversight import programmes
from metareg.records.validate import RecordValidator
from metareg.sync.ingest import ingest_files
from tests.helpers import withdrawal, write_jsonl

VERRA = "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
V = RecordValidator()


def status(status_id: str = "R-1", **extra: Any) -> dict[str, Any]:
    return {
        "record_type": "unit_status",
        "status_id": status_id,
        "underlying_registry_id": "VCS",
        "first_unit_id": VERRA,
        "last_unit_id": VERRA,
        "status": "retired",
        "status_date": "2026-04-10",
        **extra,
    }


def test_the_schema_says_what_a_unit_status_is() -> None:
    assert V.problems(status()) == []
    assert V.problems(status(purpose="corsia", article6_label="authorized", vintage=2020)) == []
    bad = {
        "status": (status(status="sold"), "$.status"),
        "purpose": (status(purpose="NDC"), "$.purpose"),
        "label": (status(article6_label="yes"), "$.article6_label"),
        "date": (status(status_date="10/04/2026"), "$.status_date"),
        "quantity": (status(quantity=-1), "$.quantity"),
        "unknown field": (status(serial="x"), "$"),
        "missing units": ({**status(), "last_unit_id": None}, "$.last_unit_id"),
    }
    for name, (record, path) in bad.items():
        if record.get("last_unit_id", "") is None:
            del record["last_unit_id"]
        assert path in [p.path for p in V.problems(record)], name


def put(engine: Engine, tmp_path: Path, name: str, *records: Any) -> Any:
    return ingest_files(engine, [write_jsonl(tmp_path / name, list(records))], "VCS")


def test_stored_with_history_parsed_and_found_by_range(engine: Engine, tmp_path: Path) -> None:
    report = put(
        engine,
        tmp_path,
        "a.jsonl",
        status(purpose="voluntary"),
        status(
            "I-1",
            status="issued",
            first_unit_id="CDC_1_1_1_321_14_1_2008",
            last_unit_id="CDC_1_1_1_321_14_1_2008",
            underlying_registry_id="CERCARBONO",
        ),
        status("BAD", status="sold"),
    )
    assert (report.counts.accepted, report.counts.quarantined) == (2, 1)
    put(engine, tmp_path, "b.jsonl", status(purpose="article6"))  # a correction
    put(engine, tmp_path, "c.jsonl", status(purpose="article6"))  # the same again
    with engine.connect() as connection:
        rows = {r.uid: r for r in connection.execute(select(UnitStatus))}
        history = connection.execute(
            select(
                RecordVersion.c.uid,
                RecordVersion.c.change,
                RecordVersion.c.source,
            )
            .where(RecordVersion.c.record_type == "unit_status")
            .order_by(RecordVersion.c.id)
        ).all()
        # Parsed when written: the Verra batch and its block; the batch id not at all.
        assert (rows["R-1"].unit_prefix, rows["R-1"].unit_first, rows["R-1"].unit_last) == (
            "19385-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
            941467007,
            941467431,
        )
        assert rows["R-1"].purpose == "article6"
        assert rows["I-1"].unit_prefix is None
        # Found by any unit of its range, not by a touching one.
        inside = "19385-941467431-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
        after = "19385-941467432-941467500-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
        assert [s["status_id"] for s in programmes.statuses_for(connection, "VCS", inside)] == [
            "R-1"
        ]
        assert programmes.statuses_for(connection, "VCS", after) == []
        assert programmes.statuses_for(connection, "GS", inside) == []
        # A batch id: by the batch id exactly.
        found = programmes.statuses_for(connection, "CERCARBONO", "CDC_1_1_1_321_14_1_2008")
        assert [s["status_id"] for s in found] == ["I-1"]
        assert programmes.statuses_for(connection, "CERCARBONO", "CDC_1_1_1_321_14_1") == []
    assert [(uid, change) for uid, change, _ in history] == [
        ("R-1", "new"),
        ("I-1", "new"),
        ("R-1", "correction"),
    ]
    assert all(source.endswith(".jsonl:line 1") or "line" in source for _, _, source in history)
    put(engine, tmp_path, "d.jsonl", withdrawal({"record_type": "unit_status", "status_id": "R-1"}))
    with engine.connect() as connection:
        assert programmes.statuses_for(connection, "VCS", inside) == []
