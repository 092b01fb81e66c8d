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
sys.argv = ["metareg", *json.loads(sys.argv[1])]
code = 0
try:
    from metareg.cli import main
    main()
except SystemExit as exit:
    code = exit.code or 0
loaded = sorted({name.split(".")[0] for name in sys.modules} & heavy)
print("PROBE" + json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def _probe(args: list[str], tmp_path: object) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
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
