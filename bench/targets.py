"""The revisions of metareg a run measures: this checkout, and with `--compare REV`
another commit, unpacked from git into the run's work folder.

The other revision's files come from `git archive` (the same tree a `git worktree`
would check out, without registering a worktree in the repository), minus its bench/
folder: the figures are always this checkout's, so both revisions are measured the
same way. Its children run with the same interpreter by default (the working folder
puts its metareg first on the path; every job reports which metareg file it imported
and the run stops if it is not that revision's). When the revision declares other
dependencies than this checkout, pass `--compare-python` with the interpreter of a
virtualenv that has them; the run prints the difference.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

from bench.harness import BENCH_ROOT, Target, job


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(BENCH_ROOT), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def current(label: str | None = None) -> Target:
    """This checkout: the code the bench's own interpreter would import."""
    try:
        revision = _git("rev-parse", "HEAD")
        changed = bool(_git("status", "--porcelain", "--", "metareg"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        revision, changed = "", False
    described = f"{revision[:10]}{' + uncommitted changes' if changed else ''}"
    return Target(label or f"this checkout ({described})", BENCH_ROOT, revision=described)


def checkout(revision: str, folder: Path, label: str | None, python: str | None) -> Target:
    """The files of `revision` (without bench/) under `folder`, as a target."""
    commit = _git("rev-parse", "--verify", f"{revision}^{{commit}}")
    root = folder / f"revision-{commit[:10]}"
    archive = subprocess.run(
        ["git", "-C", str(BENCH_ROOT), "archive", "--format=tar", commit, "--", ".", ":!bench"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    differences = dependency_changes(BENCH_ROOT / "pyproject.toml", root / "pyproject.toml")
    if differences and python is None:
        print(
            f"note: {revision} declares other dependencies than this checkout "
            f"({'; '.join(differences)}); its jobs run with {sys.executable}: "
            "pass --compare-python if they need another environment",
            file=sys.stderr,
        )
    return Target(label or revision, root, python or sys.executable, revision=commit[:10])


def dependency_changes(ours: Path, theirs: Path) -> list[str]:
    def declared(path: Path) -> set[str]:
        if not path.is_file():
            return set()
        project = tomllib.loads(path.read_text()).get("project", {})
        return {d.split(";")[0].strip() for d in project.get("dependencies", [])}

    mine, other = declared(ours), declared(theirs)
    return [f"only here: {d}" for d in sorted(mine - other)] + [
        f"only there: {d}" for d in sorted(other - mine)
    ]


def probe(target: Target) -> None:
    """Ask a child of `target` what it offers (and check it runs that code)."""
    answer = job(target, "probe")
    target.capabilities = answer["capabilities"]
    target.metareg_file = answer["metareg_file"]
