"""The README's first command from an installed wheel, as a new user meets it: build
the wheel once, install it into a fresh virtual environment, run `metareg demo` in a
temporary folder outside the checkout (bounded: `--rounds`), then the `metareg status`
and `metareg alerts` commands the demo printed find the demo's registries and every
conflict planted in its world.

The fresh environment gets metareg from the wheel only; its third-party dependencies
are those of the test's own environment (a path entry), so the test does not download
them again. What it checks is the wheel: the configuration, scenarios, schemas and
migrations it ships.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from metareg.simulator.truth import score

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "METAREG_"))}
    env["COLUMNS"] = "120"
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The `metareg` script of a fresh environment holding the wheel of this checkout."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"  # a copy: building writes build/ and egg-info beside the sources
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "metareg", source / "metareg", ignore=shutil.ignore_patterns("__pycache__")
    )
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"), "."],
        source,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (base / "dist").glob("metareg-*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    done = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        base,
    )
    assert done.returncode == 0, done.stderr
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], base
    )
    # The dependencies: this environment's site-packages, after the wheel's own.
    Path(purelib.stdout.strip(), "zz-test-dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    yield venv / "bin" / "metareg"


def _printed(output: str, command: str) -> list[str]:
    """The printed command line that runs `command`, as argv."""
    line = next(
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith("metareg ") and line.strip().endswith(command)
    )
    return shlex.split(line)[1:]


def test_installed_demo_then_the_printed_commands(installed: Path, tmp_path: Path) -> None:
    where = tmp_path / "somewhere"
    where.mkdir()
    located = _run(
        [str(installed.parent / "python"), "-c", "import metareg; print(metareg.__file__)"], where
    )
    assert str(ROOT) not in located.stdout, "metareg must come from the wheel"

    demo = _run([str(installed), "demo", "--rounds", "8"], where, timeout=600)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "round" in demo.stdout and "alert DC" in demo.stdout  # the live terminal
    truth = json.loads((where / "metareg-demo" / "planted-truth.json").read_text())
    assert (where / "metareg-demo" / "metareg.db").is_file()

    status = _run([str(installed), *_printed(demo.stdout, "status")], where)
    assert status.returncode == 0, status.stderr
    registries = {row.split()[0] for row in status.stdout.splitlines() if row[:3].isupper()}
    planted_registries = {c["registry"] for c in truth["conflicts"]}
    assert planted_registries <= registries
    for line in status.stdout.splitlines():
        if line.split() and line.split()[0] in registries:
            assert "exchange" in line and "ok" in line, line  # the demo's connector, synced

    listed = _run(
        [str(installed), *_printed(demo.stdout, "alerts --status open"), "--format", "json"],
        where,
    )
    assert listed.returncode == 0, listed.stderr
    alerts = json.loads(listed.stdout)
    found = score(truth["conflicts"], alerts)
    assert found.recall == 1.0, found.report()

    # A read command elsewhere never creates an index: one line naming the path, exit 2.
    missing = _run([str(installed), "status"], where)
    assert missing.returncode == 2
    assert "no index at" in missing.stderr and str(where / "metareg.db") in missing.stderr
    assert "Traceback" not in missing.stderr
    assert not (where / "metareg.db").exists()
