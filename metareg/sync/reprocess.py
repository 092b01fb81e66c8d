"""`metareg quarantine reprocess`: quarantined rows through the CURRENT mapping.

After a profile is fixed (a value map learns a spelling, a regular expression is
widened), the rows it quarantined are mapped again with the profile as it now is, with
the parameters and cells they were first read with (kept in the quarantine entry). A row
that now maps and validates goes into the index (reported by the registry its entry
names, else the one the profile derives) and its entry is marked `reprocessed`; a row
the profile now skips is marked `reprocessed` with the skip reason; a row that still
fails stays `unreviewed` with the reasons the current mapping gives. Canonical input
(files of canonical records, the exchange API) is validated again against the current
schemas. Each entry is its own transaction: one failure loses nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from metareg.connectors.mapping import (
    Profile,
    ProfileError,
    load_profile,
    origin_params,
    origin_row,
)
from metareg.index.approaches import store_approaches
from metareg.index.quarantine import (
    entries_to_reprocess,
    mark_reprocessed,
    update_reasons,
)
from metareg.index.writer import IndexWriter
from metareg.records.files import to_operation
from metareg.records.operations import Operation, Rejected
from metareg.records.validate import Problem, RecordValidator
from metareg.registries import ensure_registry


@dataclass
class ReprocessReport:
    accepted: list[int] = field(default_factory=list)  # entries now in the index
    skipped: list[int] = field(default_factory=list)  # entries the mapping now skips
    still_failing: dict[int, list[Problem]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "skipped": self.skipped,
            "still_failing": {
                str(k): [p.as_dict() for p in v] for k, v in self.still_failing.items()
            },
        }


def reprocess(
    engine: Engine,
    ids: Sequence[int] | None = None,
    registry_id: str | None = None,
    who: str = "cli",
    config_dir: Path | None = None,
) -> ReprocessReport:
    """Map the unreviewed entries (all, or `ids`, or a registry's) again."""
    report = ReprocessReport()
    validator = RecordValidator()
    profiles: dict[str, Profile | ProfileError] = {}
    with engine.connect() as connection:
        entries = entries_to_reprocess(connection, ids, registry_id)
    for entry in entries:
        outcome = _map(entry, validator, profiles, config_dir)
        with engine.begin() as connection:
            if isinstance(outcome, list):
                update_reasons(connection, entry["id"], outcome)
                report.still_failing[entry["id"]] = outcome
            elif isinstance(outcome, str):
                mark_reprocessed(connection, entry["id"], who, note=f"skipped: {outcome}")
                report.skipped.append(entry["id"])
            else:
                by_registry, notes = outcome
                for reporting, ops in by_registry.items():
                    ensure_registry(connection, reporting)
                    store_approaches(connection, notes)
                    IndexWriter(connection, reporting, f"reprocess:{entry['source']}").apply(ops)
                mark_reprocessed(connection, entry["id"], who)
                report.accepted.append(entry["id"])
    return report


_Mapped = tuple[dict[str, list[Operation]], list[Any]]


def _map(
    entry: dict[str, Any],
    validator: RecordValidator,
    profiles: dict[str, Profile | ProfileError],
    config_dir: Path | None,
) -> list[Problem] | str | _Mapped:
    """The entry's operations per reporting registry (and approach notes), the reason the
    current mapping skips it, or the problems that still keep it out."""
    origin = entry.get("origin") or {}
    location, raw = entry["location"], entry["raw"]
    registry = entry["registry_id"] or None
    if not origin.get("profile"):
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            return [Problem("$", "cannot be reprocessed: not a JSON record; ingest it again")]
        if registry is None:
            return [Problem("$", "no reporting registry: ingest it again with --registry")]
        return _operations([(registry, record)], raw, location, validator, [])
    name = str(origin["profile"])
    if name not in profiles:
        try:
            profiles[name] = load_profile(name, config_dir)
        except ProfileError as error:
            profiles[name] = error
    profile = profiles[name]
    if isinstance(profile, ProfileError):
        return [Problem("$", f"cannot be reprocessed: {profile}")]
    params = origin_params(origin)
    outcome = profile.evaluate(origin_row(origin, location, raw), params, origin.get("table"))
    if outcome.skipped is not None:
        return outcome.skipped
    if outcome.problems:
        return list(outcome.problems)
    given = params.get("registry") or registry
    pairs = []
    for mapped in outcome.records:
        reporting = given or mapped.registry
        if reporting is None:
            return [Problem("$", "no reporting registry: the profile gives none")]
        pairs.append((str(reporting), mapped.record))
    return _operations(pairs, raw, location, validator, list(outcome.notes))


def _operations(
    pairs: list[tuple[str, dict[str, Any]]],
    raw: str,
    location: str,
    validator: RecordValidator,
    notes: list[Any],
) -> list[Problem] | _Mapped:
    by_registry: dict[str, list[Operation]] = {}
    problems: list[Problem] = []
    for reporting, record in pairs:
        item = to_operation(record, raw, location, validator)
        if isinstance(item, Rejected):
            problems.extend(item.reasons)
        else:
            by_registry.setdefault(reporting, []).append(item)
    return problems if problems else (by_registry, notes)
