"""A complete listing's bookkeeping when many of its pages share one transaction: the
identities noted per page, and each scope's pass mode (tracking or staged) kept by the
transaction instead of read again per page. A listing written in one transaction ends
exactly as the same listing written page by page."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import Engine, insert, select

from metareg.db.tables.sync import SyncListed, SyncSeen
from metareg.exchange import create_exchange_app
from metareg.index.writer import IndexWriter
from metareg.records.operations import Incoming, Withdrawal
from metareg.registries import ensure_registry
from metareg.sync import engine as sync_engine
from metareg.sync import passes
from metareg.sync.engine import sync_registry
from metareg.sync.prefetch import PagePrefetcher
from tests.sync.feeds import exchange_registry, issuance, populated
from tests.sync.index_state import current, history
from tests.sync.loopback import serve


def _incoming(record_type: str, uid: str) -> Incoming:
    return Incoming(record_type, uid, {}, "hash", "{}")


def _listed(engine: Engine) -> set[tuple[str, str, str, str]]:
    """What a tracking pass noted as listed: (registry, scope, record type, uid)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                SyncListed.c.registry_id,
                SyncListed.c.scope,
                SyncListed.c.record_type,
                SyncListed.c.uids,
            )
        ).all()
    return {(r[0], r[1], r[2], uid) for r in rows for uid in orjson.loads(r[3])}


def _seen(engine: Engine) -> set[tuple[str, str, str, str]]:
    """What a staged pass noted (its latest operation per identity)."""
    seen = SyncSeen
    with engine.connect() as connection:
        rows = connection.execute(
            select(seen.c.registry_id, seen.c.scope, seen.c.record_type, seen.c.uid)
        ).all()
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def test_a_tracking_pass_notes_each_listed_identity(engine: Engine) -> None:
    odd = 'IDN01-"quoted"-\\-é-' + "x" * 300  # JSON escapes, non-ASCII, a long uid
    page = [
        _incoming("action", "IDN01-A-1"),
        _incoming("action", "IDN01-A-1"),  # twice in one page
        _incoming("holding", odd),
        _incoming("authorization", "IDN01-AUTH-1"),
        Withdrawal("action", "IDN01-A-9"),  # a withdrawal lists nothing
    ]
    with engine.begin() as connection:
        ensure_registry(connection, "IDN01")
        passes.open_pass(connection, "IDN01", "records", datetime.now(UTC), staged=False)
        passes.note_seen(connection, "IDN01", "records", page, staged=False)
        # The next page lists one of them again, and one more.
        again = [_incoming("holding", odd), _incoming("action", "IDN01-A-2")]
        passes.note_seen(connection, "IDN01", "records", again, staged=False)
        passes.note_seen(connection, "IDN01", "records", [], staged=False)
    assert _listed(engine) == {
        ("IDN01", "records", "action", "IDN01-A-1"),
        ("IDN01", "records", "holding", odd),
        ("IDN01", "records", "authorization", "IDN01-AUTH-1"),
        ("IDN01", "records", "action", "IDN01-A-2"),
    }


@pytest.fixture
def one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page of a listing in one transaction (each page waited for)."""
    monkeypatch.setattr(sync_engine, "GROUP_ITEMS", 10**9)
    monkeypatch.setattr(PagePrefetcher, "ready", lambda self: True)


def test_a_staged_resync_in_one_transaction_writes_no_old_versions(
    engine: Engine, one_transaction: None
) -> None:
    # One change a page: a correction replayed from the feed's beginning is on a page
    # of its own after the original, so only a staged pass (applying the net result at
    # the end) leaves history as it was; a pass taken for a tracking one would write
    # the old version back, then the correction again.
    source = populated("THA01", records=30, seed=4)
    corrections = len(source._log) - len(source._current)
    assert corrections > 0
    with serve(create_exchange_app(source)) as url:
        registry = exchange_registry("THA01", url, page_size=1)
        first = sync_registry(engine, registry)
        assert first.ok, first.error
        assert first.pages > 30  # a page per change, all in one transaction
        before = (current(engine), history(engine))
        source.request_reset()
        again = sync_registry(engine, registry)
    assert again.ok and again.full_resync, again.error
    assert (current(engine), history(engine)) == before
    assert _seen(engine) == _listed(engine) == set()  # both passes closed


def test_a_listing_in_one_transaction_ends_like_page_by_page(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metareg.db import migrate
    from metareg.db.engine import make_engine

    source = populated("PER01", records=30, seed=6)
    with serve(create_exchange_app(source)) as url:
        registry = exchange_registry("PER01", url, page_size=3)
        # Page by page, each page its own transaction.
        monkeypatch.setattr(sync_engine, "GROUP_ITEMS", 1)
        apart = make_engine(f"sqlite:///{tmp_path_factory.mktemp('apart') / 'index.db'}")
        migrate.upgrade(apart)
        assert sync_registry(apart, registry).ok
        # Every page of the listing in one transaction.
        monkeypatch.setattr(sync_engine, "GROUP_ITEMS", 10**9)
        monkeypatch.setattr(PagePrefetcher, "ready", lambda self: True)
        assert sync_registry(engine, registry).ok
        # The registry drops a record without a tombstone and rebuilds its feed (every
        # cursor refused): the complete listing that follows withdraws it, in both.
        source.forget(next(r for (kind, _), r in source._current.items() if kind == "action"))
        source.rebuild()
        assert sync_registry(engine, registry).ok
        monkeypatch.setattr(sync_engine, "GROUP_ITEMS", 1)
        assert sync_registry(apart, registry).ok
    assert current(engine) == current(apart)
    assert history(engine) == history(apart)
    assert [row[3] for row in history(engine)].count("withdrawal") >= 1
    apart.dispose()


def test_the_end_of_a_tracking_pass_withdraws_what_neither_noting_listed(engine: Engine) -> None:
    """Identities noted per page (`sync_listed`) and, for a pass begun before migration
    0028, per identity (`sync_seen`) both count as listed; the rest is withdrawn."""
    now = datetime.now(UTC)
    records = [issuance("IDN01", n) for n in range(1, 6)]
    ops = [Incoming.from_record(record, orjson.dumps(record).decode()) for record in records]
    with engine.begin() as connection:
        ensure_registry(connection, "IDN01")
        IndexWriter(connection, "IDN01", "sync:IDN01", now).apply(ops)
        passes.open_pass(connection, "IDN01", "records", now, staged=False)
        passes.note_seen(connection, "IDN01", "records", ops[:2], staged=False)
        connection.execute(  # what the pass noted before the upgrade
            insert(SyncSeen),
            [
                {
                    "registry_id": "IDN01",
                    "scope": "records",
                    "record_type": "action",
                    "uid": ops[3].uid,
                }
            ],
        )
        absent = passes.unlisted(connection, "IDN01", "records")
    assert sorted((w.record_type, w.uid) for w in absent) == [
        ("action", ops[2].uid),
        ("action", ops[4].uid),
    ]
