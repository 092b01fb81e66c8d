"""Identity semantics of RECORDS.md on both backends: same again, correction,
withdrawal, snapshot succession, idempotent re-ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from metareg.db.tables.index import Action, Holding, Quarantine, RecordVersion
from metareg.index import query, writer
from metareg.sync.ingest import ingest_files
from tests.helpers import action, authorization, holding, withdrawal, write_jsonl


def ingest(
    engine: Engine,
    tmp_path: Path,
    records: list[Any],
    registry: str = "IDN01",
    name: str = "in.jsonl",
):
    return ingest_files(engine, [write_jsonl(tmp_path / name, records)], registry)


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(model)).scalar_one())


def snapshot(engine: Engine) -> tuple[list[Any], list[Any], list[Any]]:
    """Everything a re-ingest must leave exactly as it was."""
    with engine.connect() as c:
        actions = c.execute(select(Action).order_by("registry_id", "uid")).all()
        holdings = c.execute(select(Holding).order_by("registry_id", "uid")).all()
        history = c.execute(select(RecordVersion).order_by("id")).all()
    return actions, holdings, history


def history_of(engine: Engine, uid: str, record_type: str = "action") -> list[str]:
    with engine.connect() as c:
        return [h["change"] for h in query.history(c, "IDN01", record_type, uid)]


def test_same_record_again_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    first = ingest(engine, tmp_path, [action("ISS-1", 1, 100)])
    assert first.counts.accepted == 1
    # Same content, spelled differently (key order, default made explicit, 100.0).
    again = ingest(
        engine,
        tmp_path,
        [
            {
                **dict(reversed(list(action("ISS-1", 1, 100).items()))),
                "metric": "GHG",
                "last_id": 100.0,
            }
        ],
    )
    assert again.counts.unchanged == 1 and again.counts.changed == 0
    assert history_of(engine, "ISS-1") == ["new"]


def test_correction_keeps_the_old_version_in_history(engine: Engine, tmp_path: Path) -> None:
    ingest(engine, tmp_path, [action("ISS-1", 1, 100)])
    report = ingest(engine, tmp_path, [action("ISS-1", 1, 90)])
    assert report.counts.corrected == 1
    with engine.connect() as c:
        current = query.intersecting(c, "CA0001", "IDN01", 1, 1000)
        versions = query.history(c, "IDN01", "action", "ISS-1")
    assert [r["record"]["last_id"] for r in current] == [90]
    assert [v["change"] for v in versions] == ["new", "correction"]
    assert [v["record"]["last_id"] for v in versions] == [100, 90]
    assert versions[0]["content_hash"] != versions[1]["content_hash"]


def test_withdrawal_leaves_current_index_but_stays_in_history(
    engine: Engine, tmp_path: Path
) -> None:
    ingest(engine, tmp_path, [action("ISS-1", 1, 100), action("ISS-2", 101, 200)])
    report = ingest(engine, tmp_path, [withdrawal({"record_type": "action", "action_id": "ISS-1"})])
    assert report.counts.withdrawn == 1
    assert count(engine, Action) == 1
    assert history_of(engine, "ISS-1") == ["new", "withdrawal"]
    # Withdrawing it again, or a record never seen, changes nothing.
    again = ingest(
        engine,
        tmp_path,
        [
            withdrawal({"record_type": "action", "action_id": "ISS-1"}),
            withdrawal({"record_type": "action", "action_id": "NEVER"}),
        ],
    )
    assert again.counts.unchanged == 2 and again.counts.changed == 0
    # Reported again later: it is back, and history says so.
    back = ingest(engine, tmp_path, [action("ISS-1", 1, 100)])
    assert back.counts.accepted == 1
    assert history_of(engine, "ISS-1") == ["new", "withdrawal", "new"]


def test_ingesting_a_file_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    records = [
        authorization(),
        action("ISS-1", 1, 100),
        action("ISS-1", 1, 99),  # corrected within the file
        action("ISS-2", 101, 200),
        withdrawal({"record_type": "action", "action_id": "ISS-2"}),
        holding("A", 1, 50, as_of="2023-12-31"),
        holding("A", 1, 40, as_of="2024-12-31"),
        '{"record_type": "action", "action_id": "bad"}',
        "not json",
    ]
    path = write_jsonl(tmp_path / "twice.jsonl", records)
    first = ingest_files(engine, [path], "IDN01")
    assert first.counts.quarantined == 2
    before = snapshot(engine)
    quarantined = count(engine, Quarantine)
    second = ingest_files(engine, [path], "IDN01")
    assert second.counts.changed == 0
    assert snapshot(engine) == before
    assert count(engine, Quarantine) == quarantined == 2


def test_lookups_in_several_chunks_find_every_current_record(
    engine: Engine, tmp_path: Path, monkeypatch: Any
) -> None:
    """The writer looks current records up in chunks (padded to a few sizes): with
    chunks of 7 padded to multiples of 4, a batch of 40 records spans several, and
    every record found again is unchanged, every changed one a correction."""
    monkeypatch.setattr(writer, "LOOKUP_CHUNK", 7)
    monkeypatch.setattr(writer, "LOOKUP_STEP", 4)
    records = [action(f"ISS-{n}", 100 * n + 1, 100 * n + 50) for n in range(40)]
    path = write_jsonl(tmp_path / "chunks.jsonl", records)
    assert ingest_files(engine, [path], "IDN01").counts.accepted == len(records)
    again = ingest_files(engine, [path], "IDN01")
    assert again.counts.unchanged == len(records) and again.counts.changed == 0
    changed = [
        *records[:-3],
        *(action(r["action_id"], r["first_id"], r["last_id"] - 1) for r in records[-3:]),
    ]
    third = ingest_files(engine, [write_jsonl(tmp_path / "c2.jsonl", changed)], "IDN01")
    assert third.counts.corrected == 3 and third.counts.unchanged == len(records) - 3


def test_newer_holdings_snapshot_replaces_the_older_wholesale(
    engine: Engine, tmp_path: Path
) -> None:
    ingest(
        engine, tmp_path, [holding("A", 1, 50, "2023-12-31"), holding("B", 51, 80, "2023-12-31")]
    )
    report = ingest(engine, tmp_path, [holding("A", 1, 30, "2024-12-31")])
    assert report.counts.superseded == 2 and report.counts.accepted == 1
    with engine.connect() as c:
        rows = query.intersecting(c, "CA0001", "IDN01", 1, 100, ["holding"])
    assert [(r["record"]["as_of"], r["record"]["last_id"]) for r in rows] == [("2024-12-31", 30)]
    # An older snapshot arriving late is history only.
    late = ingest(engine, tmp_path, [holding("C", 81, 90, "2022-12-31")])
    assert late.counts.stale == 1 and count(engine, Holding) == 1


def test_quarantine_of_a_mixed_file(engine: Engine, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            action("GOOD-1", 1, 10),
            action("BAD-1", 10, 1),
            "{truncated",
            action("GOOD-2", 11, 20),
            {"record_type": "action", "action_id": "BAD-2", "colour": "red"},
        ],
    )
    report = ingest_files(engine, [path], "IDN01")
    assert (report.counts.accepted, report.counts.quarantined) == (2, 3)
    with engine.connect() as c:
        rows = c.execute(select(Quarantine).order_by(Quarantine.c.location)).all()
    assert [r.location for r in rows] == ["line 2", "line 3", "line 5"]
    assert rows[1].raw == "{truncated"  # verbatim
    assert any(reason["path"] == "$.last_id" for reason in rows[0].reasons)
    assert any("colour" in reason["message"] for reason in rows[2].reasons)
    assert all(r.source == str(path) for r in rows)


def test_registry_not_yet_configured_is_added(engine: Engine, tmp_path: Path) -> None:
    from metareg.db.tables.index import Registry

    ingest(engine, tmp_path, [action("X", 1, 2)], registry="THA01")
    with engine.connect() as c:
        row = c.execute(select(Registry)).one()
    assert (row.id, row.party_id, row.origin) == ("THA01", "THA", "ingest")


def test_csv_with_the_same_column_names(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(
        "record_type,action_id,action_date,action_type,cooperative_approach_id,"
        "party_registry_id,first_transferring_party_id,first_id,last_id,vintage,sectors\n"
        "action,ISS-1,2024-02-01,Issuance,CA0001,IDN01,IDN,1,100,2023,Energy;Waste\n"
        "action,ISS-2,2024-02-01,Issuance,CA0001,IDN01,IDN,one,100,2023,\n"
    )
    report = ingest_files(engine, [path], "IDN01")
    assert (report.counts.accepted, report.counts.quarantined) == (1, 1)
    with engine.connect() as c:
        [found] = query.intersecting(c, "CA0001", "IDN01", 1, 1)
    assert found["record"]["sectors"] == ["Energy", "Waste"]
