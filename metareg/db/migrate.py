"""Schema migrations with Alembic, driven from code (no alembic.ini to find).

`upgrade()` is what `metareg db upgrade` runs and what every command runs on
start; `is_current()` is what /readyz asks. Revisions live in
metareg/migrations/versions; several feature branches may each add a head, so we
always upgrade to "heads".

Alembic is imported only to upgrade (issue 17, start-up): on an index already at the
heads, `upgrade()` reads the heads from the revision files' `revision` and
`down_revision` assignments and the applied revisions from `alembic_version` with one
query. tests/test_migrations.py checks these agree with Alembic's own.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

# Several workers may start at once on a fresh PostgreSQL database; each upgrades on
# start, so the upgrades take turns under this session-level advisory lock.
MIGRATION_LOCK_KEY = 0x6D676D72  # "mgmr"

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default; env.py does not change it


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def _alembic_upgrade(engine: Engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "heads")


def upgrade(engine: Engine) -> None:
    """Bring the schema to the heads; a no-op, without importing Alembic, when it is."""
    if applied(engine) == script_heads():
        return
    if engine.dialect.name != "postgresql":
        _alembic_upgrade(engine)
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            _alembic_upgrade(engine)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            lock.commit()


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*(?:#.*)?$", re.M)


def _revision_lines(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(revision, down revisions) of one revision file, from its module-level
    `revision = ...` and `down_revision = ...` lines (a text scan: parsing every file
    would cost more than the rest of a light command's start)."""
    values: dict[str, object] = {}
    for match in _ASSIGNMENT.finditer(path.read_text(encoding="utf-8")):
        try:
            values[match[1]] = ast.literal_eval(match[2])
        except (ValueError, SyntaxError):  # e.g. a tuple over several lines
            return _revision_lines_parsed(path)
    return _revision_pair(values)


def _revision_lines_parsed(path: Path) -> tuple[str, tuple[str, ...]] | None:
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    values[target.id] = ast.literal_eval(node.value) if node.value else None
    return _revision_pair(values)


def _revision_pair(values: dict[str, object]) -> tuple[str, tuple[str, ...]] | None:
    revision = values.get("revision")
    if not isinstance(revision, str):
        return None
    down = values.get("down_revision")
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list):
        return revision, tuple(str(d) for d in down)
    return revision, ()


@cache
def script_heads() -> frozenset[str]:
    """The heads of the revision files: revisions no other revision continues."""
    revisions: set[str] = set()
    continued: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = _revision_lines(path)
        if found is not None:
            revisions.add(found[0])
            continued.update(found[1])
    return frozenset(revisions - continued)


def heads(engine: Engine) -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def applied(engine: Engine) -> set[str]:
    """The revisions recorded in `alembic_version` (none on a fresh database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return set()
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return {str(row[0]) for row in rows}


def is_current(engine: Engine) -> bool:
    return applied(engine) == script_heads()
