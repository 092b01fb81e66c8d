"""Jobs for a reading child process in tests (a child imports its job by module)."""

from __future__ import annotations

from collections.abc import Iterator

from metareg import log


def log_as_parent(state: log.Snapshot, secret: str) -> Iterator[str]:
    """Log one event carrying `secret` the way the parent would, as `read_pages` does."""
    log.adopt(state)
    log.get_logger("tests.child").warning("child speaks", token=secret)
    yield "logged"
