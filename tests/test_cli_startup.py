"""Start-up stays light: `metareg --help`, each command's help and the usage errors
found before the index is opened import none of the heavy parts (the database layer,
the web stack, numpy); those load where a command uses them. Asserted on the modules
a fresh process has loaded, not on time (bench/figures/startup.py measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "fastapi", "starlette", "uvicorn", "numpy")

PROBE = """
import json, sys
heavy = set(json.loads(sys.argv[2]))
watch = tuple(json.loads(sys.argv[3]))
sys.argv = ["metareg", *json.loads(sys.argv[1])]
code = 0
try:
    from metareg.cli import main
    main()
except SystemExit as exit:
    code = exit.code or 0
loaded = sorted({name.split(".")[0] for name in sys.modules} & heavy)
watched = sorted({name.split(".")[0] if name.startswith("alembic") else name
                  for name in sys.modules if name.startswith(watch)})
print("PROBE" + json.dumps({"code": code, "loaded": loaded, "watched": watched}), file=sys.stderr)
"""


def _probe(args: list[str], tmp_path: object, watch: tuple[str, ...] = ()) -> dict[str, object]:
    """Run the CLI in a fresh process; `loaded`: the HEAVY packages it imported,
    `watched`: its modules named with a prefix in `watch` (alembic as one name)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY), json.dumps(watch)],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        timeout=120,
        check=False,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("PROBE"))
    found: dict[str, object] = json.loads(line.removeprefix("PROBE"))
    found["stdout"], found["stderr"] = done.stdout, done.stderr
    return found


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["status", "--help"],
        ["demo", "--help"],
        ["alerts", "--help"],
        ["alerts", "webhooks", "--help"],
        ["show", "--help"],
        ["keys", "--help"],
        ["quarantine", "--help"],
        ["aef", "--help"],
        ["status", "--format", "yaml"],
    ],
    ids=" ".join,
)
def test_light_commands_import_no_heavy_module(args: list[str], tmp_path: object) -> None:
    found = _probe(args, tmp_path)
    assert found["loaded"] == [], (args, found["loaded"])
    if "--help" in args:
        assert found["code"] == 0 and "Usage" in str(found["stdout"])
    else:
        assert found["code"] == 2 and "--format must be table or json" in str(found["stderr"])


def test_the_probe_sees_heavy_modules_when_a_command_opens_the_index(tmp_path: object) -> None:
    """The probe is not blind: a command that opens an index loads the database layer."""
    url = f"sqlite:///{tmp_path}/index.db"
    found = _probe(["--db", url, "db", "upgrade"], tmp_path)
    assert found["code"] == 0, found["stderr"]
    assert "sqlalchemy" in found["loaded"]  # type: ignore[operator]


# What a read command on an up-to-date index must not load: Alembic (the index is at its
# heads: one query says so), the connectors (and their HTTP client), the ORM and SQLModel
# (the tables are SQLAlchemy Core), and structlog (loaded on the first log line).
NOT_ON_READS = ("alembic", "metareg.connectors", "sqlalchemy.orm", "sqlmodel", "structlog")
UNKNOWN_ITMO = "CA0001-IDN01-IDN-45005-2023"


@pytest.mark.parametrize(
    "args",
    [["status"], ["status", "--format", "json"], ["alerts"], ["stats"], ["show", UNKNOWN_ITMO]],
    ids=" ".join,
)
def test_read_commands_on_an_up_to_date_index_import_no_alembic_orm_nor_connectors(
    args: list[str], tmp_path: object
) -> None:
    """Opening an index already at the migration heads checks it with one query (no
    Alembic); reading sync health, alerts or an ITMO needs no connector, no ORM and no
    logging library."""
    url = f"sqlite:///{tmp_path}/index.db"
    assert _probe(["--db", url, "db", "upgrade"], tmp_path)["code"] == 0
    found = _probe(["--db", url, *args], tmp_path, watch=NOT_ON_READS)
    if args[0] == "show":  # an empty index: the identifier is unknown (exit 2, said why)
        assert found["code"] == 2 and UNKNOWN_ITMO in str(found["stderr"]), found["stderr"]
    else:
        assert found["code"] == 0, found["stderr"]
    assert "sqlalchemy" in found["loaded"]  # type: ignore[operator]  (the probe sees)
    assert found["watched"] == [], found["watched"]


def test_the_probe_sees_the_orm_and_structlog_where_they_are_loaded(tmp_path: object) -> None:
    """The watch list is not blind: a process that logs loads structlog, and one that
    imports the ORM shows it (here a `db upgrade` on a fresh index: Alembic and its
    logging)."""
    url = f"sqlite:///{tmp_path}/index.db"
    found = _probe(["--db", url, "-v", "db", "upgrade"], tmp_path, watch=NOT_ON_READS)
    assert found["code"] == 0, found["stderr"]
    assert "alembic" in found["watched"], found["watched"]  # type: ignore[operator]
    assert "structlog" in found["watched"], found["watched"]  # type: ignore[operator]


def test_an_index_behind_the_heads_is_upgraded_by_a_read_command(tmp_path: object) -> None:
    """The shortcut does not skip a needed upgrade: on an index one migration behind,
    `status` upgrades it (with Alembic), and the next `status` finds it current."""
    from alembic import command

    from metareg.db import migrate
    from metareg.db.engine import make_engine

    url = f"sqlite:///{tmp_path}/index.db"
    assert _probe(["--db", url, "db", "upgrade"], tmp_path)["code"] == 0
    engine = make_engine(url)
    command.downgrade(migrate.alembic_config(engine), "0005_action_authorization_chain@-1")
    assert not migrate.is_current(engine)
    first = _probe(["--db", url, "status"], tmp_path, watch=("alembic",))
    second = _probe(["--db", url, "status"], tmp_path, watch=("alembic",))
    assert first["code"] == second["code"] == 0, (first["stderr"], second["stderr"])
    assert "alembic" in first["watched"]  # type: ignore[operator]
    assert second["watched"] == []
    assert migrate.is_current(engine)
    engine.dispose()
