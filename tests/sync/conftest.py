"""Sync tests log a lot: point structlog at this test's stderr first, in case an earlier
test (a CLI run) left it bound to a stream that has since been closed."""

from __future__ import annotations

import pytest

from metareg import log


@pytest.fixture(autouse=True)
def _fresh_logging() -> None:
    log.configure()
