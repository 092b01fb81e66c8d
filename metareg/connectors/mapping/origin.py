"""Where a quarantined row came from, kept so the row can be mapped again.

`row_origin` is what the quarantine stores for a row a profile could not take (the
profile's name, the parameters of the run, the row's table, heading cells and values as
read); `origin_row` gives the row back, so `metareg quarantine reprocess` re-runs the
CURRENT profile (its derived values, value maps, filters and record rules) over it
without the source file. Dates and times survive as tagged values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from metareg.connectors.mapping.readers import SourceRow

_DATETIME, _DATE = "$datetime", "$date"


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dt.date):
        return {_DATE: value.isoformat()}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _DATETIME in value:
            return dt.datetime.fromisoformat(value[_DATETIME])
        if len(value) == 1 and _DATE in value:
            return dt.date.fromisoformat(value[_DATE])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def row_origin(profile: str, params: Mapping[str, Any], row: SourceRow) -> dict[str, Any]:
    return {
        "profile": profile,
        "params": _encode(dict(params)),
        "table": row.table,
        "cells": _encode(dict(row.cells)),
        "values": _encode(row.values),
    }


def origin_row(origin: Mapping[str, Any], location: str, raw: str) -> SourceRow:
    return SourceRow(
        location,
        _decode(origin.get("values") or {}),
        raw,
        origin.get("table"),
        _decode(origin.get("cells") or {}),
    )


def origin_params(origin: Mapping[str, Any]) -> dict[str, Any]:
    return dict(_decode(origin.get("params") or {}))
