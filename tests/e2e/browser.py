"""What the browser tests share: Debian's Chromium, how it is started, and where
screenshots go ($METAREG_TEST_OUTPUT/e2e, else test-artifacts/e2e in the checkout,
which git ignores)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (.ci/run does)")


def screenshot_folder(name: str = "e2e") -> Path:
    base = (
        Path(os.environ["METAREG_TEST_OUTPUT"])
        if os.environ.get("METAREG_TEST_OUTPUT")
        else ARTIFACTS
    )
    folder = base / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
