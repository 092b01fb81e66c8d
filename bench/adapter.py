"""Where each metareg function the bench calls lives, in this layout and the ones before.

`--compare REV` runs the same bench code against another revision of metareg, whose
modules may sit elsewhere (issue 12 moved most of them) or not exist yet. Every call
the bench makes into metareg goes through `locate(name)`, which tries the places
below in order; a name found nowhere makes the figures that need it "not available"
for that revision, with the places looked at as the reason. When a module moves
again, add its new place first in its list.

Imported only in the children that run a target's code (bench.jobs, bench.serve):
the bench's own process never imports metareg.
"""

from __future__ import annotations

import importlib
from typing import Any

PLACES: dict[str, tuple[str, ...]] = {
    "make_engine": ("metareg.db.engine:make_engine",),
    "upgrade": ("metareg.db.migrate:upgrade",),
    "ingest_files": ("metareg.sync.ingest:ingest_files", "metareg.ingest:ingest_files"),
    "ingest_batch": ("metareg.sync.ingest:DEFAULT_BATCH", "metareg.ingest:DEFAULT_BATCH"),
    "current_tables": (
        "metareg.db.tables.index:CURRENT_TABLES",
        "metareg.db.tables:CURRENT_TABLES",
    ),
    "record_defaults": ("metareg.records.canonical:DEFAULTS", "metareg.records:DEFAULTS"),
    "record_uid": ("metareg.records.canonical:record_uid", "metareg.records:record_uid"),
    "run_checks": ("metareg.checks.runner:run_checks", "metareg.detection.runner:run_checks"),
    "create_key": ("metareg.oversight.keys:create_key", "metareg.api.keys:create_key"),
    "range_query": ("metareg.index.query:intersecting",),
    "create_app": ("metareg.web.app:create_app", "metareg.api.app:create_app"),
    # How `metareg serve` runs uvicorn's HTTP protocol (answers written once); a
    # revision without it runs uvicorn's own.
    "http_protocol": ("metareg.web.serving:http_protocol",),
    "registry_config": ("metareg.registries:RegistryConfig",),
    "sync_registry": ("metareg.sync.engine:sync_registry",),
    "sync_worker": ("metareg.sync.worker:Worker",),
    "feed_source": ("metareg.exchange.memory:InMemoryFeedSource",),
    "exchange_app": ("metareg.exchange.server:create_exchange_app",),
    # Partitioned detection (issue 18): one call that takes partition leases until none
    # is left, checks each (watermark, alerts) and returns what it did, so several
    # processes share one full check.
    "partitioned_check": ("metareg.checks.partitions:run_partitions",),
    # Issue 15: the programme rules' pass (DC15, DC16) and the units pass (DC03) beside it.
    "programme_pass": ("metareg.detection.passes.programmes:find",),
    "units_pass": ("metareg.detection.passes.units:find",),
    # The programmes figure plants its world in bulk with the index writer's own row
    # makers (what an ingest of its files writes, without the lookups).
    "index_writer": ("metareg.index.writer:IndexWriter",),
    "incoming": ("metareg.records.operations:Incoming",),
    "write_rows": ("metareg.db.upsert:write_rows",),
    "history_table": ("metareg.db.tables.index:RecordVersion",),
    "history_columns": ("metareg.index.writer:HISTORY_COLUMNS",),
    "ensure_registry": ("metareg.registries:ensure_registry",),
}

# What each figure calls, so a target that lacks one reports the figure unavailable.
NEEDS: dict[str, tuple[str, ...]] = {
    "ingest": ("make_engine", "upgrade", "ingest_files", "current_tables", "record_defaults"),
    "checks": ("make_engine", "upgrade", "ingest_files", "run_checks"),
    "sync": ("make_engine", "upgrade", "registry_config", "sync_registry", "exchange_app"),
    "api": ("make_engine", "create_key", "create_app", "range_query", "current_tables"),
    "sync_workers": ("make_engine", "upgrade", "registry_config", "sync_worker", "exchange_app"),
    "detection_workers": ("make_engine", "partitioned_check"),
    "startup": ("make_engine",),
    "programmes": (
        "make_engine",
        "upgrade",
        "index_writer",
        "incoming",
        "write_rows",
        "history_table",
        "history_columns",
        "ensure_registry",
        "current_tables",
        "programme_pass",
        "units_pass",
    ),
}


class Missing(LookupError):
    def __init__(self, name: str) -> None:
        places = ", ".join(p.replace(":", ".") for p in PLACES[name])
        super().__init__(f"{name} not found (looked for {places})")


def locate(name: str) -> Any:
    for place in PLACES[name]:
        module_name, attribute = place.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # A dependency missing from this environment is not a module that moved.
            if error.name and not error.name.startswith("metareg"):
                raise
            continue
        if hasattr(module, attribute):
            return getattr(module, attribute)
    raise Missing(name)


def capabilities() -> dict[str, str | None]:
    """Per figure: None when this metareg has all it needs, else what is missing."""
    found: dict[str, str | None] = {}
    for name in PLACES:
        try:
            locate(name)
            found[name] = None
        except Missing as error:
            found[name] = str(error)
    return {
        figure: "; ".join(m for m in (found[name] for name in names) if m) or None
        for figure, names in NEEDS.items()
    }
