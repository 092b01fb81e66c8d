"""What the connectors that read through a source profile share: the profile named by the
connector's `source` option, its parameters from the registry entry, and the items of a
mapped row.

In a connector the reporting registry is always the configured one (RECORDS.md): a
profile's own `registry` rule is for `metareg ingest`. A row the profile skips yields
no item; a row it cannot map yields one item with the failing rule, quarantined.
"""

from __future__ import annotations

from typing import Any

from metareg.connectors.base import ConnectorConfig, Item
from metareg.connectors.errors import ConfigurationError
from metareg.connectors.mapping import (
    Outcome,
    ParameterError,
    Profile,
    ProfileError,
    load_profile,
    row_origin,
)
from metareg.settings import config_dir


def connector_profile(config: ConnectorConfig, default: str | None = None) -> Profile:
    name = config.option("source", default)
    if not name:
        raise ConfigurationError(f"{config.registry_id}: set 'source' to a source profile")
    try:
        return load_profile(str(name), config_dir())
    except ProfileError as error:
        raise ConfigurationError(f"{config.registry_id}: {error}") from error


def connector_params(config: ConnectorConfig, profile: Profile) -> dict[str, Any]:
    """The profile's parameters from the entry: its `params` table, and options of the
    same name (`cooperative_approach_id = "CA0001"` beside `type`)."""
    given = {name: config.options[name] for name in profile.params if name in config.options}
    table = config.option("params", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{config.registry_id}: params must be a table")
    given.update(table)
    given.update({"registry": config.registry_id, "party": config.party_id})
    try:
        return profile.bind(given)
    except ParameterError as error:
        raise ConfigurationError(f"{config.registry_id}: {error}") from error


def outcome_items(
    outcome: Outcome,
    profile: Profile | None = None,
    params: dict[str, Any] | None = None,
    table: str | None = None,
) -> list[Item]:
    """The items of a mapped row; given the profile and parameters, a row that is
    quarantined keeps what `metareg quarantine reprocess` needs to map it again."""
    row = outcome.row
    if outcome.skipped is not None:
        return []
    origin = None
    if profile is not None:
        origin = row_origin(profile.name, params or {}, row)
        origin["table"] = table or row.table
    if outcome.problems:
        reasons = [f"{problem.path}: {problem.message}" for problem in outcome.problems]
        return [Item(row.values, row.raw, row.location, reasons, origin=origin)]
    several = len(outcome.records) > 1
    return [
        Item(
            mapped.record,
            row.raw,
            f"{row.location} record {number}" if several else row.location,
            approaches=list(outcome.notes),
            origin=origin,
        )
        for number, mapped in enumerate(outcome.records, start=1)
    ]
