"""Jobs a full check's reading process runs in tests (the process imports them by
module, as it imports `checks.full_reads.full_check_reads`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any


def dies(url: str, snapshot: str | None) -> Iterator[Any]:
    """The reading process ends before answering (killed, out of memory)."""
    os._exit(3)
    yield None  # pragma: no cover


def fails(url: str, snapshot: str | None) -> Iterator[Any]:
    """The reading process's job raises (a database error, a bug)."""
    raise RuntimeError("the reading process could not read the index")
    yield None  # pragma: no cover
