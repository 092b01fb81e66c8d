"""One module per figure of issue #7, in the order of the table."""

from __future__ import annotations

from types import ModuleType

from bench.figures import (
    full_check,
    growth,
    incremental,
    ingest,
    lookup,
    memory,
    naive,
    postgres,
    sync,
)

FIGURES: dict[str, ModuleType] = {
    module.NAME: module
    for module in (ingest, sync, full_check, growth, incremental, naive, lookup, memory, postgres)
}
