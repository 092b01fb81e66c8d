"""Schema migrations: workers that start together on PostgreSQL take turns upgrading;
what a migration backfills."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, inspect, text

from metareg.db import migrate
from metareg.db.engine import make_engine
from metareg.index.open import open_index
from tests.conftest import _empty_postgres
from tests.detection.conftest import Index
from tests.helpers import action, holding


def _upgrade(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()


def test_concurrent_upgrades_take_turns(postgres_url: str) -> None:
    _empty_postgres(postgres_url)
    engine = make_engine(postgres_url)
    # Step one head back so that three worker processes have the same work to race on.
    command.downgrade(migrate.alembic_config(engine), "0005_action_authorization_chain@-1")
    assert not migrate.is_current(engine)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_upgrade, args=(postgres_url,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert migrate.is_current(engine)
    names = [i["name"] for i in inspect(engine).get_indexes("actions")]
    assert names.count("ix_action_authorization_chain") == 1
    engine.dispose()


def test_0011_backfills_alert_fields_and_keeps_a_holdings_alert(
    engine: Engine, tmp_path: Path
) -> None:
    """An index from before 0011 has a DC04 alert whose fingerprint names a holding's
    `as_of`: after the upgrade the alert carries its vintage and first transferring
    Party, and the next check confirms it (same id) instead of resolving it and opening
    another."""
    index = Index(engine, tmp_path)
    index.put("IDN01", action("ISS-1", 1, 100), holding("GOV", 1, 100, as_of="2024-06-30"))
    index.put("JPN01", holding("J", 1, 100, as_of="2024-09-30"))
    index.check()
    [alert] = index.alerts("DC04")
    evidence = [tuple(e.values()) for e in alert["evidence"]]
    old = hashlib.sha256("\x1e".join(["DC04", *sorted("\x1f".join(e) for e in evidence)]).encode())
    config = migrate.alembic_config(engine)
    command.downgrade(config, "0012_unit_status")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE alert SET fingerprint = :fp WHERE id = :id"),
            {"fp": old.hexdigest(), "id": alert["id"]},
        )
    migrate.upgrade(engine)
    [upgraded] = index.alerts("DC04")
    assert (upgraded["vintage"], upgraded["first_transferring_party_id"]) == (2023, "IDN")
    assert upgraded["identifier"] == "CA0001-IDN01-IDN-1-100-2023"
    index.put("JPN01", holding("J", 1, 100, as_of="2024-12-31"))  # a newer snapshot
    summary = index.check()
    assert (summary.opened, summary.resolved) == ({}, {})
    [after] = index.alerts("DC04")
    assert after["id"] == alert["id"] and after["status"] == "open"


def test_the_shortcut_reads_the_same_heads_as_alembic(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'heads.db'}")
    assert migrate.script_heads() == migrate.heads(engine)
    engine.dispose()


def test_an_index_behind_the_heads_is_still_upgraded_on_open(db_url: str) -> None:
    engine = open_index(db_url)
    assert migrate.applied(engine) == migrate.heads(engine)
    # One head back: the version table no longer matches the files, so opening upgrades.
    command.downgrade(migrate.alembic_config(engine), "0005_action_authorization_chain@-1")
    behind = migrate.applied(engine)
    assert behind != migrate.heads(engine)
    assert not migrate.is_current(engine)
    engine.dispose()
    engine = open_index(db_url)
    assert migrate.is_current(engine)
    assert migrate.applied(engine) == migrate.heads(engine) != behind
    assert _index_names(engine).count("ix_action_authorization_chain") == 1
    engine.dispose()


def test_a_fresh_database_is_not_current_and_is_created_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine = make_engine(url)
    assert migrate.applied(engine) == set()
    assert not migrate.is_current(engine)
    engine.dispose()
    engine = open_index(url)
    assert migrate.applied(engine) == migrate.heads(engine)
    assert "actions" in inspect(engine).get_table_names()
    engine.dispose()


def _index_names(engine: Engine) -> list[str]:
    return [str(i["name"]) for i in inspect(engine).get_indexes("actions")]
