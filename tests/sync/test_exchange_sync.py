"""Integration: the exchange connector over loopback against a real HTTP server, into
a real index (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from metareg.db.tables.index import Quarantine, RecordVersion
from metareg.exchange import InMemoryFeedSource, create_exchange_app
from metareg.records.canonical import normalize, record_uid
from metareg.sync.engine import sync_registry
from metareg.sync.state import read_state
from tests.sync.feeds import exchange_registry, holding_row, issuance, populated
from tests.sync.index_state import current, history
from tests.sync.loopback import serve


def expected(source: InMemoryFeedSource) -> set[tuple[str, str]]:
    """(record_type, uid) the index must hold for a registry after a complete sync."""
    keys = {(kind, uid) for (kind, uid) in source._current}
    latest = max(source._snapshots)
    keys |= {("holding", record_uid(normalize(r))) for r in source._snapshots[latest]}
    return keys


def held(engine: Engine, registry_id: str) -> set[tuple[str, str]]:
    return {(kind, uid) for reg, kind, uid, _ in current(engine) if reg == registry_id}


def test_sync_over_loopback_mirrors_the_registry(engine: Engine) -> None:
    source = populated("IDN01", records=30)
    with serve(create_exchange_app(source)) as url:
        registry = exchange_registry("IDN01", url)
        first = sync_registry(engine, registry)
        assert first.ok, first.error
        assert first.pages > 3  # page size 7: really paginated
        assert held(engine, "IDN01") == expected(source)

        # Nothing new: the next sync changes nothing and writes no history.
        before = history(engine)
        again = sync_registry(engine, registry)
        assert again.ok and again.counts.changed == 0
        assert history(engine) == before

        # A correction, a withdrawal, a new record, and a snapshot that drops a row.
        source.upsert(issuance("IDN01", 2, action_date="2024-05-05"))
        source.withdraw(issuance("IDN01", 3))
        source.upsert(issuance("IDN01", 99))
        rows = [holding_row("IDN01", n) for n in range(1, 10)]
        source.set_holdings("2024-12-31", rows)
        third = sync_registry(engine, registry)
        assert third.ok, third.error
        assert held(engine, "IDN01") == expected(source)
        assert third.counts.corrected >= 1 and third.counts.withdrawn >= 2

    with engine.connect() as connection:
        health = read_state(connection, "IDN01")
    assert health is not None
    assert health["last_success_at"] is not None and health["consecutive_failures"] == 0
    assert health["records_received"] >= first.received + third.received


def test_invalid_records_are_quarantined_and_the_page_proceeds(engine: Engine) -> None:
    source = InMemoryFeedSource("JPN01")
    source.upsert(issuance("JPN01", 1))
    source.upsert({**issuance("JPN01", 2), "vintage": "last year"})  # invalid
    source.upsert(issuance("JPN01", 3))
    with serve(create_exchange_app(source)) as url:
        result = sync_registry(engine, exchange_registry("JPN01", url))
    assert result.ok
    assert result.counts.accepted == 2 and result.counts.quarantined == 1
    quarantine = Quarantine
    with engine.connect() as connection:
        rows = connection.execute(select(quarantine.c.raw, quarantine.c.reasons)).all()
    assert len(rows) == 1 and "last year" in rows[0][0]
    assert any("vintage" in reason["path"] for reason in rows[0][1])


def test_expired_cursor_triggers_a_full_resync_without_duplicates(engine: Engine) -> None:
    source = populated("MNG01", records=20)
    with serve(create_exchange_app(source)) as url:
        registry = exchange_registry("MNG01", url)
        assert sync_registry(engine, registry).ok
        before = history(engine)
        # The registry rebuilds its feed (our cursor is now refused) and, meanwhile,
        # dropped a record without leaving a tombstone.
        source.forget(issuance("MNG01", 6))
        source.rebuild()
        result = sync_registry(engine, registry)
    assert result.ok, result.error
    assert held(engine, "MNG01") == expected(source)
    added = [row for row in history(engine) if row not in before]
    assert [row[3] for row in added] == ["withdrawal"]  # ISS-5 only; nothing re-added


def test_registry_asking_for_reset_gets_a_full_resync(engine: Engine) -> None:
    source = populated("THA01", records=10)
    with serve(create_exchange_app(source)) as url:
        registry = exchange_registry("THA01", url)
        assert sync_registry(engine, registry).ok
        before = history(engine)
        source.request_reset()
        result = sync_registry(engine, registry)
    assert result.ok and result.full_resync
    assert history(engine) == before  # everything "unchanged"
    assert held(engine, "THA01") == expected(source)


def test_unknown_fields_kept_raw_or_rejected(engine: Engine) -> None:
    source = InMemoryFeedSource("VNM01")
    source.upsert({**issuance("VNM01", 1), "registry_note": "new field"})
    with serve(create_exchange_app(source)) as url:
        kept = sync_registry(engine, exchange_registry("VNM01", url))
        assert kept.ok and kept.counts.accepted == 1 and kept.unknown_fields == 1
        versions = RecordVersion
        with engine.connect() as connection:
            raw, payload = connection.execute(select(versions.c.raw, versions.c.payload)).one()
        assert "registry_note" in raw and "registry_note" not in payload

        source.upsert({**issuance("VNM01", 2), "registry_note": "x"})
        strict = exchange_registry("VNM01", url, unknown_fields="reject")
        rejected = sync_registry(engine, strict)
    assert rejected.ok and rejected.counts.quarantined == 1 and rejected.counts.accepted == 0


def test_unreachable_registry_records_failure(engine: Engine) -> None:
    registry = exchange_registry(
        "IDN01", "http://127.0.0.1:9", connector={"max_attempts": 1, "timeout_seconds": 1}
    )
    result = sync_registry(engine, registry)
    assert not result.ok and result.error_kind == "transient"
    with engine.connect() as connection:
        health = read_state(connection, "IDN01")
    assert health is not None
    assert health["consecutive_failures"] == 1 and health["last_error"]
    assert health["last_success_at"] is None
