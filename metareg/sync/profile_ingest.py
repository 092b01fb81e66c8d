"""`metareg ingest FILE... --source NAME`: a registry's own files through a source profile.

Each row becomes what the profile says: records (each reported by the registry the
profile derives from the data, or by `--registry` when given), a skip counted under its
reason, or a quarantined row with the rule that failed. Records are validated like any
canonical record and written in bounded batches, each batch in one transaction with the
provisional cooperative approaches it met. Ingesting the same file again changes
nothing: as in `metareg.sync.ingest`, a first pass notes the identities the file names
more than once, and their records are handed to the writer together, at their last
row, so one batch judges their net effect.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from metareg.connectors.mapping import (
    ApproachNote,
    Outcome,
    ParameterError,
    Profile,
    SourceError,
    row_origin,
)
from metareg.index.approaches import store_approaches
from metareg.records.batches import NetOrder, identity_of
from metareg.records.files import Progress, to_operation
from metareg.records.operations import Operation, Rejected
from metareg.records.validate import Problem, RecordValidator
from metareg.registries import ensure_registry, party_of
from metareg.sync.ingest import (
    DEFAULT_BATCH,
    IngestReport,
    IngestUsageError,
    check_files,
    write_batch,
)

NO_REGISTRY = ""  # a row whose reporting registry neither the profile nor --registry gives


class _Batch:
    """Operations and rejects waiting to be written, per reporting registry."""

    def __init__(self) -> None:
        self.ops: dict[str, list[Operation]] = defaultdict(list)
        self.rejected: dict[str, list[Rejected]] = defaultdict(list)
        self.notes: dict[str, ApproachNote] = {}
        self.size = 0

    def clear(self) -> None:
        self.ops.clear()
        self.rejected.clear()
        self.notes.clear()
        self.size = 0

    def write(self, engine: Engine, source: str, report: IngestReport) -> None:
        registries = sorted(set(self.ops) | set(self.rejected))
        with engine.begin() as connection:
            for registry in registries:
                if registry != NO_REGISTRY:
                    ensure_registry(connection, registry)
            store_approaches(connection, self.notes.values())
        for registry in registries:
            write_batch(
                engine, registry, source, self.ops[registry], self.rejected[registry], report
            )
        self.clear()


def ingest_with_profile(
    engine: Engine,
    paths: list[Path],
    profile: Profile,
    params: Mapping[str, Any],
    registry_id: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> IngestReport:
    check_files(paths)
    if registry_id is None and not profile.registry_from_data:
        raise IngestUsageError(
            f"profile {profile.name} does not derive the reporting registry from the data: "
            "give --registry"
        )
    given = {**params, "registry": registry_id, "party": party_of(registry_id or "") or None}
    try:
        bound = profile.bind(given)
    except ParameterError as error:
        raise IngestUsageError(str(error)) from error
    validator = RecordValidator()
    report = IngestReport()
    for path in paths:
        report.files += 1
        source = str(path)
        start = report.start_file()
        content = path.read_bytes()
        if progress:
            progress(len(content))
        batch = _Batch()
        order = NetOrder(_identity_index(profile, content, bound, registry_id))
        try:
            for outcome in profile.map_content(content, bound):
                report.lines += 1
                _take(outcome, registry_id, validator, batch, report, profile.name, bound, order)
                if batch.size >= batch_size:
                    batch.write(engine, source, report)
        except SourceError as error:
            # What was read before the broken part is kept; the break itself is a
            # quarantined entry, so nothing after it passes unnoticed.
            where = registry_id or NO_REGISTRY
            batch.rejected[where].append(
                Rejected("(file)", "", [Problem("$", f"cannot read the rest: {error}")])
            )
        for reporting, op in order.rest():
            batch.ops[reporting].append(op)
        batch.write(engine, source, report)
        report.end_file(source, start)
    return report


def _identity_index(
    profile: Profile, content: bytes, bound: Any, registry_id: str | None
) -> dict[int, int]:
    """Each (reporting registry, identity) the file names more than once, with the
    position of its last record (as a hash; see `ingest.identity_index`)."""
    last: dict[int, int] = {}
    repeated: set[int] = set()
    position = 0
    try:
        for outcome in profile.map_content(content, bound):
            if outcome.skipped is not None or outcome.problems:
                continue
            for mapped in outcome.records:
                position += 1
                identity = identity_of(mapped.record)
                if identity is None:
                    continue
                key = hash((registry_id or mapped.registry, *identity))
                if key in last:
                    repeated.add(key)
                last[key] = position
    except SourceError:
        pass  # the second pass reports it
    return {key: last[key] for key in repeated}


def _take(
    outcome: Outcome,
    registry_id: str | None,
    validator: RecordValidator,
    batch: _Batch,
    report: IngestReport,
    profile: str,
    params: Mapping[str, Any],
    order: NetOrder,
) -> None:
    row = outcome.row
    if outcome.skipped is not None:
        report.skipped[outcome.skipped] = report.skipped.get(outcome.skipped, 0) + 1
        return
    # What `metareg quarantine reprocess` maps again with the then current profile.
    origin = row_origin(profile, params, row)
    if outcome.problems:
        failed_in = registry_id or outcome.registry or NO_REGISTRY
        batch.rejected[failed_in].append(Rejected(row.location, row.raw, outcome.problems, origin))
        batch.size += 1
        return
    for note in outcome.notes:
        batch.notes[note.id] = note
    several = len(outcome.records) > 1
    for number, mapped in enumerate(outcome.records, start=1):
        order.position += 1
        location = f"{row.location} record {number}" if several else row.location
        reporting = registry_id or mapped.registry
        if reporting is None:
            problem = Problem("$", "no reporting registry: the profile gives none; use --registry")
            batch.rejected[NO_REGISTRY].append(Rejected(location, row.raw, [problem], origin))
        else:
            item = to_operation(mapped.record, row.raw, location, validator)
            if isinstance(item, Rejected):
                batch.rejected[reporting].append(dataclasses.replace(item, origin=origin))
            else:
                key = hash((reporting, item.record_type, item.uid))
                for held_registry, op in order.take(key, order.position, (reporting, item)):
                    batch.ops[held_registry].append(op)
        batch.size += 1
