"""Schema migrations with Alembic, driven from code (no alembic.ini to find).

`upgrade()` is what `metareg db upgrade` runs and what every command runs on
start; `is_current()` is what /readyz asks. Revisions live in
metareg/migrations/versions; several feature branches may each add a head, so we
always upgrade to "heads".
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

# Several workers may start at once on a fresh PostgreSQL database; each upgrades on
# start, so the upgrades take turns under this session-level advisory lock.
MIGRATION_LOCK_KEY = 0x6D676D72  # "mgmr"

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "heads")
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            command.upgrade(alembic_config(engine), "heads")
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            lock.commit()


def heads(engine: Engine) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def applied(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def is_current(engine: Engine) -> bool:
    return applied(engine) == heads(engine)
