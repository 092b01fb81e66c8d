"""Validation of canonical records against the published JSON Schemas.

Two validators per record type: jsonschema-rs answers "is it valid?" on the hot
path (most records are), and only for a record that fails does the pure-Python
jsonschema collect every error, each with its JSON path and a human sentence.
A few rules a JSON Schema cannot state (first_id <= last_id, a timeframe that
runs forwards) are checked here too, with the same error shape.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema_rs
from referencing import Registry, Resource

from metareg.records.schemas import RECORD_TYPES, WITHDRAWAL, load_schema, schema_uri


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a record was refused: where (a JSON path) and why (a sentence)."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_JSON_TYPES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    type(None): "null",
}


def _humanize(error: jsonschema.ValidationError) -> Problem:
    path = _json_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    described = schema.get("description")
    kind = error.validator
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        when = ""
        if "then" in error.absolute_schema_path:
            when = f" when action_type is {_short(error.instance.get('action_type'))}"
        return Problem(_json_path([*error.absolute_path, missing]), f"is required{when}")
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(schema.get("properties", {})))
        return Problem(
            path, f"unknown field(s) {', '.join(extra)}: RECORDS.md lists every allowed field"
        )
    if kind == "const":
        return Problem(path, f"must be {_short(error.validator_value)}")
    if kind == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return Problem(path, f"must be one of: {allowed}; got {_short(error.instance)}")
    if kind == "type":
        got = _JSON_TYPES.get(type(error.instance), type(error.instance).__name__)
        return Problem(path, f"must be of type {error.validator_value}, got {got}")
    if kind in ("pattern", "format") and described:
        return Problem(path, f"must be {described}; got {_short(error.instance)}")
    if kind == "format":
        return Problem(
            path, f"must be a valid {error.validator_value}; got {_short(error.instance)}"
        )
    if kind in ("minimum", "maximum") and described:
        return Problem(path, f"must be {described}; got {_short(error.instance)}")
    if kind == "minItems":
        return Problem(path, "must not be empty")
    if kind == "uniqueItems":
        return Problem(path, "must not repeat an item")
    return Problem(path, str(error.message))


def _semantic_problems(record: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    first, last = record.get("first_id"), record.get("last_id")
    if isinstance(first, int) and isinstance(last, int) and first > last:
        problems.append(Problem("$.last_id", f"must be at least first_id ({first}); got {last}"))
    start, end = record.get("timeframe_start"), record.get("timeframe_end")
    if isinstance(start, int) and isinstance(end, int) and start > end:
        problems.append(
            Problem("$.timeframe_end", f"must not be before timeframe_start ({start}); got {end}")
        )
    return problems


DEFAULT_HORIZON_DAYS = 366  # a date beyond today + one year is not a registry's fact yet
HORIZON_ENV = "METAREG_DATE_HORIZON_DAYS"


def horizon_days() -> int:
    """How many days after today a record's date may lie ($METAREG_DATE_HORIZON_DAYS,
    default 366: one year, leap days included)."""
    raw = os.environ.get(HORIZON_ENV, "").strip()
    return int(raw) if raw else DEFAULT_HORIZON_DAYS


def _is_date(spec: Any) -> bool:
    if not isinstance(spec, dict):
        return False
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.endswith("#/$defs/date"):
        return True
    return spec.get("format") == "date"


def date_fields() -> dict[str, tuple[str, ...]]:
    """Per record type, its date fields, read from the schemas (every property whose
    schema is the shared `date` definition or has `format: date`)."""
    return {
        name: tuple(
            sorted(
                field
                for field, spec in load_schema(name).get("properties", {}).items()
                if _is_date(spec)
            )
        )
        for name in RECORD_TYPES
    }


class RecordValidator:
    """Validates canonical records of any type; build once, reuse (it is thread-safe).

    Besides the schema, a date field (every field the schemas type as a date) may lie
    at most `horizon_days` after today: a holding dated 2204 would otherwise be the
    registry's "latest" snapshot forever, and every real one after it stale."""

    def __init__(self, horizon: int | None = None, today: dt.date | None = None) -> None:
        self.horizon_days = horizon_days() if horizon is None else horizon
        self._today = today
        # (start, end) of the local day in epoch seconds, and today + horizon in ISO form
        self._latest_day: tuple[float, float, str] = (0.0, 0.0, "")
        self._dates = date_fields()
        names = (*RECORD_TYPES, "block", WITHDRAWAL)
        checked = (*RECORD_TYPES, WITHDRAWAL)
        py_registry: Registry[Any] = Registry().with_resources(
            (schema_uri(n), Resource.from_contents(load_schema(n))) for n in names
        )
        rs_registry = jsonschema_rs.Registry([(schema_uri(n), load_schema(n)) for n in names])
        self._fast = {
            t: jsonschema_rs.Draft202012Validator(
                load_schema(t), registry=rs_registry, validate_formats=True
            )
            for t in checked
        }
        self._slow = {
            t: jsonschema.Draft202012Validator(
                load_schema(t),
                registry=py_registry,
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
            )
            for t in checked
        }

    def problems(self, record: Any) -> list[Problem]:
        """Every reason this record is not a valid canonical record (empty when valid)."""
        if not isinstance(record, dict):
            got = _JSON_TYPES.get(type(record), type(record).__name__)
            return [Problem("$", f"a record must be a JSON object, got {got}")]
        record_type = record.get("record_type")
        if record_type not in self._fast:
            return [
                Problem(
                    "$.record_type",
                    f"must be one of: {', '.join(self._fast)}; got {_short(record_type)}",
                )
            ]
        if self._fast[record_type].is_valid(record):
            return _semantic_problems(record) + self._future_dates(record_type, record)
        found = [_humanize(e) for e in self._slow[record_type].iter_errors(record)]
        found.sort(key=lambda p: p.path)
        return found + _semantic_problems(record) + self._future_dates(record_type, record) or [
            # The two validators disagree only on exotic input; never pass it silently.
            Problem("$", "does not match the published schema")
        ]

    def latest_date(self) -> dt.date:
        """The last date a record may carry: today plus the horizon."""
        today = self._today or dt.date.today()
        return today + dt.timedelta(days=self.horizon_days)

    def _latest_iso(self) -> str:
        """`latest_date()` in ISO form, worked out again only when the local day
        changes (every record is checked against it). The day and its answer are
        kept as one tuple, replaced whole, so threads sharing the validator never
        see one without the other."""
        if self._today is not None:
            return self.latest_date().isoformat()
        now = time.time()
        start, end, latest = self._latest_day
        if not start <= now < end:
            today = dt.date.today()
            midnight = dt.datetime.combine(today, dt.time())
            latest = (today + dt.timedelta(days=self.horizon_days)).isoformat()
            self._latest_day = (
                midnight.timestamp(),
                (midnight + dt.timedelta(days=1)).timestamp(),
                latest,
            )
        return latest

    def _future_dates(self, record_type: str, record: dict[str, Any]) -> list[Problem]:
        problems: list[Problem] = []
        latest_iso = ""
        for field in self._dates.get(record_type, ()):
            value = record.get(field)
            if not isinstance(value, str):
                continue
            latest_iso = latest_iso or self._latest_iso()
            if len(value) == 10 and value[4] == value[7] == "-" and value <= latest_iso:
                continue  # YYYY-MM-DD, in order as text: not after the latest date
            try:
                when = dt.date.fromisoformat(value)
            except ValueError:
                continue  # the schema's format check names it
            latest = dt.date.fromisoformat(latest_iso)
            if when > latest:
                problems.append(
                    Problem(
                        f"$.{field}",
                        f"must not lie beyond {latest.isoformat()} (today + "
                        f"{self.horizon_days} days, {HORIZON_ENV}); got {value}",
                    )
                )
        return problems
