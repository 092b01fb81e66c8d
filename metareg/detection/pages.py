"""numpy's large arrays on ordinary pages while a full check runs.

numpy asks the kernel for transparent huge pages on every array of 4 MiB or more
(`madvise(MADV_HUGEPAGE)`). A full check builds several hundred megabytes of such
arrays, most of them once, and drops them again. Where the kernel is set to compact
memory on demand for such requests (`defrag` of `madvise`, the common default) and its
free memory is short (a database host's page cache fills it), each 2 MiB page is
found by reclaiming and compacting at the fault, in the check's own time: measured at
a million blocks, the first check in a process spent twice the kernel time of the next
one, most of it there, and the same work on ordinary pages cost less and no more CPU
in user space. Ordinary pages are what every other allocation of the check gets.

numpy offers the switch only as `_set_madvise_hugepage` (also read from
`NUMPY_MADVISE_HUGEPAGE` at import); where a numpy lacks it nothing changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _switch() -> Callable[[bool], bool] | None:
    for name in ("numpy._core.multiarray", "numpy.core.multiarray"):  # numpy 2, numpy 1
        try:
            module: Any = importlib.import_module(name)
        except ImportError:
            continue
        found: Callable[[bool], bool] | None = getattr(module, "_set_madvise_hugepage", None)
        return found
    return None


_set_madvise_hugepage = _switch()


@contextmanager
def ordinary_pages() -> Iterator[None]:
    """No huge-page advice for numpy's arrays allocated while the block runs (a
    context manager or a decorator); the previous setting comes back at the end."""
    if _set_madvise_hugepage is None:
        yield
        return
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)
