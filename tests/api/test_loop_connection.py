"""The reads on the event loop share one lasting connection (`LoopConnection`): no pool
checkout per request, one read transaction per request on SQLite, and nothing held
between requests, so every request sees every commit (a revocation at once) and a
writer can always checkpoint the WAL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from metareg.db.checkpoints import checkpointer_of
from metareg.oversight import keys
from metareg.web.api.deps import LoopConnection
from tests.api.conftest import Api, idn_records, make_api

BLOCK = "/v1/itmos/CA0001-IDN01-IDN-39001-60000-2023"
CHECK = "/v1/checks/authorization"
USE = {"identifier": "CA0001-IDN01-IDN-1-1000-2023", "purpose": "NDC", "using_party_id": "JPN"}


def test_hot_reads_take_no_pool_connection_per_request(world: Api) -> None:
    assert world.client.get(BLOCK, headers=world.oversight).status_code == 200
    checkouts: list[Any] = []

    def counted(*args: Any) -> None:
        checkouts.append(args)

    event.listen(world.engine, "checkout", counted)
    try:
        for _ in range(3):
            assert world.client.get(BLOCK, headers=world.oversight).status_code == 200
            assert world.client.post(CHECK, json=USE, headers=world.oversight).status_code == 200
    finally:
        event.remove(world.engine, "checkout", counted)
    if world.engine.dialect.name == "sqlite":  # reads on the event loop
        assert checkouts == []
    else:  # reads in worker threads, a pooled connection each
        assert len(checkouts) >= 6


def test_nothing_is_held_between_requests(sqlite_engine: Engine, tmp_path: Path) -> None:
    for api in make_api(sqlite_engine, tmp_path):
        api.ingest("IDN01", idn_records())
        assert api.client.get(BLOCK, headers=api.oversight).status_code == 200
        shared: LoopConnection = api.client.app.state.loop_connection  # type: ignore[attr-defined]
        with shared.borrow() as connection:
            assert connection is not None
            driver: Any = connection.connection.driver_connection
            assert driver.in_transaction  # the request's one read transaction
        assert not driver.in_transaction
        # No reader holds a snapshot: a writer empties the WAL completely (once the
        # engine's checkpoint thread has stopped: only one checkpoint runs at a time).
        checkpointer = checkpointer_of(sqlite_engine)
        assert checkpointer is not None
        checkpointer.stop()
        with sqlite_engine.connect() as writer:
            busy, _, _ = writer.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        assert busy == 0


def test_a_request_sees_what_was_committed_after_the_last_one(world: Api) -> None:
    """The shared connection never keeps a snapshot: a key created, then revoked, between
    two requests is seen both times, on both hot routes."""
    for _ in range(2):
        assert world.client.get(BLOCK, headers=world.oversight).status_code == 200
    with world.engine.begin() as connection:
        created, token = keys.create_key(connection, "new", "oversight")
    headers = {"X-API-Key": token}
    assert world.client.get(BLOCK, headers=headers).status_code == 200
    assert world.client.post(CHECK, json=USE, headers=headers).status_code == 200
    with world.engine.begin() as connection:
        assert keys.revoke_key(connection, created["id"])
    assert world.client.get(BLOCK, headers=headers).status_code == 401
    assert world.client.post(CHECK, json=USE, headers=headers).status_code == 401


def test_a_failed_request_leaves_the_connection_usable(world: Api) -> None:
    """A problem raised mid-read (a 404, a malformed identifier) ends the request's
    transaction like a success does."""
    for path in ("/v1/itmos/CA0001-IDN01-IDN-900001-2023", "/v1/itmos/CA0001-IDN01"):
        assert world.client.get(path, headers=world.oversight).status_code in (404, 422)
        assert world.client.get(BLOCK, headers=world.oversight).status_code == 200
