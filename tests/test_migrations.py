"""Schema migrations: workers that start together on PostgreSQL take turns upgrading."""

from __future__ import annotations

import multiprocessing

from alembic import command
from sqlalchemy import inspect

from metareg.db import migrate
from metareg.db.engine import make_engine
from tests.conftest import _empty_postgres


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
