"""Jobs a check's reading process runs in tests, in place of a full check's reads
(`checks.full_reads.full_check_reads`) or an incremental check's blocks
(`checks.changed_reads.changed_blocks`): the process imports them by module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any


def dies(url: str, snapshot: str | None, *job: Any) -> Iterator[Any]:
    """The reading process ends before answering (killed, out of memory)."""
    os._exit(3)
    yield None  # pragma: no cover


def fails(url: str, snapshot: str | None, *job: Any) -> Iterator[Any]:
    """The reading process's job raises (a database error, a bug)."""
    raise RuntimeError("the reading process could not read the index")
    yield None  # pragma: no cover
