"""Pausing Python's cyclic garbage collector around bulk work (no database imports:
a reading child process uses it too)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (a context manager or a decorator).

    Building rows in bulk, or unpickling a batch of records, allocates a few containers
    per row, none in a cycle, and each allocation burst triggers collections that walk
    every live object again: a sixth of the time of writing a first check's alerts, and
    nearly half of unpickling an ingest's batch. What it frees is freed by reference
    counting anyway; the collector resumes (if it ran before) at the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
