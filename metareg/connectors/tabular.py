"""Tabular connector: a file download (CSV, XLSX or JSON) read through a source profile.

For registries that only publish exports. Either name a profile (`metareg sources`):

    [registries.connector]
    type = "tabular"
    url = "https://www.jcm.go.jp/.../issuance_records.csv"   # or path = "..."
    source = "jcm-credits"
    params = { }                                            # the profile's parameters

or give the short column mapping, which is turned into a profile of the mapping language
(one way to map columns, checked the same way):

    [registries.connector]
    type = "tabular"
    url = "https://registry.example.org/exports/issuances.csv"
    record_type = "action"
    [registries.connector.columns]
    action_id = "Transaction ID"
    action_date = { column = "Issuance Date", as = "date" }
    [registries.connector.constants]
    action_type = "Issuance"
    [registries.connector.underlying]
    registry = "VCS"
    serial = "Serial Number"          # one column with the block, or first/last columns

Conversions (`as`): text (default), integer, number, date, year, list (';'-separated).
Every sync of a changed file is a complete listing (see `files.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from metareg.connectors.base import Item
from metareg.connectors.errors import ConfigurationError, MalformedResponse
from metareg.connectors.files import FileSnapshotConnector
from metareg.connectors.mapping import Profile, ProfileError, SourceError
from metareg.connectors.profiled import connector_params, connector_profile, outcome_items

CONVERSIONS = ("text", "integer", "number", "date", "year", "list")


class TabularConnector(FileSnapshotConnector):
    kind = "tabular"

    def _profile(self, xlsx: bool) -> Profile:
        if self.config.option("source"):
            return connector_profile(self.config)
        document = column_mapping_profile(self.config.registry_id, self.config.options, xlsx)
        try:
            return Profile(Path(f"{self.config.registry_id}.toml"), document=document)
        except ProfileError as error:
            raise ConfigurationError(f"{self.config.registry_id}: {error}") from error

    def items(self, content: bytes, name: str) -> list[Item]:
        xlsx = name.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04"
        profile = self._profile(xlsx)
        params = connector_params(self.config, profile)
        try:
            return [
                item
                for outcome in profile.map_content(content, params)
                for item in outcome_items(outcome, profile, params)
            ]
        except SourceError as error:
            raise MalformedResponse(f"{name}: {error}", url=name) from error


def column_mapping_profile(registry_id: str, options: dict[str, Any], xlsx: bool) -> dict[str, Any]:
    """The profile document of the short column mapping (`columns`, `constants`,
    `underlying`, `record_type`, `format`, `sheet`, `header_row`, `encoding`)."""
    columns = options.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise ConfigurationError(f"{registry_id}: tabular needs a source or a columns table")
    constants = dict(options.get("constants", {}))
    record_type = str(options.get("record_type", constants.pop("record_type", "")))
    constants.pop("record_type", None)
    if record_type not in ("action", "holding", "authorization"):
        raise ConfigurationError("tabular: record_type must be action, holding or authorization")
    fields: dict[str, Any] = {}
    for field, spec in columns.items():
        if isinstance(spec, str):
            fields[field] = {"column": spec, "as": "text"}
        elif isinstance(spec, dict) and "column" in spec:
            how = str(spec.get("as", "text"))
            if how not in CONVERSIONS:
                raise ConfigurationError(f"columns.{field}: 'as' must be one of {CONVERSIONS}")
            fields[field] = {"column": str(spec["column"]), "as": how}
        else:
            raise ConfigurationError(f"columns.{field}: a header name or {{column, as}}")
    fields.update({field: {"const": value} for field, value in constants.items()})
    derived: dict[str, Any] = {}
    underlying = dict(options.get("underlying", {}))
    programme = str(underlying.get("registry") or "auto")
    if underlying.get("registry"):
        fields["underlying_registry_id"] = {"const": str(underlying["registry"])}
    ends = (
        [("first_unit_id", underlying["serial"]), ("last_unit_id", underlying["serial"])]
        if "serial" in underlying
        else [("first_unit_id", underlying.get("first")), ("last_unit_id", underlying.get("last"))]
    )
    for field, column in ends:
        if column:
            # Read with the serial parsers so a malformed serial quarantines its row.
            derived[f"{field}_serial"] = {"column": str(column), "serial": programme}
            fields[field] = {"value": f"{field}_serial.text"}
    kind = str(options.get("format", "")) or ("xlsx" if xlsx else "csv")
    sheet = {"name": "rows", "header_row": int(options.get("header_row", 1))}
    if options.get("sheet"):
        sheet["sheet"] = str(options["sheet"])
    document: dict[str, Any] = {
        "profile": {"name": registry_id, "title": f"column mapping of {registry_id}"},
        "input": {"format": kind, "thousands": True},
        "derived": derived,
        "records": [{"type": record_type, "fields": fields}],
    }
    if kind == "xlsx":
        document["tables"] = [sheet]
    elif options.get("encoding"):
        document["input"]["encoding"] = str(options["encoding"])
    return document
