"""Source profiles: loading, checking and compiling a profile, then mapping rows with it.

A profile is a TOML file (the shipped ones are `metareg/connectors/profiles/NAME.toml`; a
deployment may add its own as `config/profiles/NAME.toml`). Everything in it is checked
when it is loaded, each error with the file and line, before any record is touched;
`Profile.evaluate` then maps one row to its records, a skip with its reason, or the
problems that quarantine it. The language reference is docs/connectors.md, "Source
profiles and the mapping language".
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from metareg.connectors.mapping.approaches import ApproachNote, load_folds
from metareg.connectors.mapping.errors import ProfileError, RowError
from metareg.connectors.mapping.expressions import (
    Expression,
    Row,
    Scope,
    compile_condition,
    compile_expression,
    make_map,
)
from metareg.connectors.mapping.readers import (
    InputSpec,
    SheetSpec,
    SourceRow,
    json_source_row,
    read_csv,
    read_json,
    read_xlsx,
)
from metareg.connectors.mapping.toml_lines import key_lines, line_of
from metareg.connectors.mapping.values import (
    DEFAULT_EARLIEST,
    DEFAULT_LATEST,
    Countries,
    ValueMap,
    text_of,
)
from metareg.records.schemas import RECORD_TYPES, load_schema
from metareg.records.validate import Problem

SHIPPED = Path(__file__).resolve().parent.parent / "profiles"
VOCABULARIES = SHIPPED / "_vocabularies.toml"
FORMATS = ("csv", "xlsx", "json")
BUILTIN_PARAMS = ("registry", "party")
# A Party registry (JPN01) or a crediting programme's registry (VCS): metareg.registries.
REGISTRY_ID = re.compile(r"^(?:[A-Z]{3}[0-9]{2}|[A-Z][A-Z0-9.]{1,15})$")
_PLAIN = frozenset({str, int, float})  # field values that go out as they are

_TOP = {"profile", "input", "params", "maps", "countries", "tables", "skip", "derived", "records"}
_PROFILE_KEYS = {"name", "title", "reads", "notes"}
_INPUT_KEYS = {
    "format",
    "encoding",
    "delimiter",
    "null",
    "thousands",
    "dates",
    "rows",
    "columnar",
}
_TABLE_KEYS = {"name", "sheet", "header_row", "header_rows", "cells", "when", "endpoint"}
_SKIP_KEYS = {"table", "when", "reason"}
_RECORD_KEYS = {"type", "table", "when", "registry", "fields"}
_PARAM_KEYS = {"default", "required", "help"}


class ParameterError(ValueError):
    """A parameter the profile needs was not given (or one it does not know was)."""


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    required: bool
    help: str


@dataclass
class Table:
    name: str
    sheet: SheetSpec | None
    when: Callable[[Row], bool] | None
    endpoint: str | None


@dataclass
class SkipRule:
    table: str | None
    when: Callable[[Row], bool]
    reason: str


@dataclass
class RecordRule:
    rule: str  # records[1], for messages
    type: str
    table: str | None
    when: Callable[[Row], bool] | None
    registry: Expression | None
    fields: list[tuple[str, str, Expression]]  # field, rule path, expression


@dataclass
class Mapped:
    """One record a row yields, with the reporting registry the profile gives it (None:
    the registry the caller reads for)."""

    record: dict[str, Any]
    registry: str | None


@dataclass
class Outcome:
    row: SourceRow
    records: list[Mapped] = field(default_factory=list)
    skipped: str | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[ApproachNote] = field(default_factory=list)
    registry: str | None = None  # best known reporting registry, also for a failed row


@cache
def _fields_of(record_type: str) -> frozenset[str]:
    schema = load_schema(record_type)
    names = set(schema.get("properties", {}))
    if any("block.schema.json" in str(part.get("$ref", "")) for part in schema.get("allOf", [])):
        names |= set(load_schema("block").get("properties", {}))
    return frozenset(names - {"record_type"})


def _read_toml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"{path}: cannot read: {error}") from error
    try:
        return tomllib.loads(text), key_lines(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{path}: not valid TOML: {error}") from error


@cache
def shared_vocabularies() -> dict[str, ValueMap]:
    """The value maps every profile may use (`profiles/_vocabularies.toml`): the spellings
    of the AEF, CAD Trust v2.0.2 and the UNDP templates for each enum of RECORDS.md."""
    document, lines = _read_toml(VOCABULARIES)

    def error(path: str, message: str) -> ProfileError:
        return ProfileError(f"{VOCABULARIES.name}:{line_of(lines, path)}: {path}: {message}")

    if set(document) - {"maps"}:
        raise error("maps", "the shared vocabularies file holds only [maps.NAME] tables")
    return {
        name: make_map(f"maps.{name}", entries, error, name)
        for name, entries in document.get("maps", {}).items()
    }


def profile_paths(config_dir: Path | None = None) -> dict[str, Path]:
    """Every profile by name: the shipped ones, then `config/profiles/*.toml` (which may
    replace a shipped one of the same name)."""
    found = {p.stem: p for p in sorted(SHIPPED.glob("*.toml")) if not p.stem.startswith("_")}
    if config_dir is not None and (config_dir / "profiles").is_dir():
        found.update({p.stem: p for p in sorted((config_dir / "profiles").glob("*.toml"))})
    return found


def load_profile(name: str, config_dir: Path | None = None) -> Profile:
    """A profile by name (or by the path of its file), checked and compiled."""
    path = Path(name)
    if not (name.endswith(".toml") and path.is_file()):
        paths = profile_paths(config_dir)
        if name not in paths:
            raise ProfileError(f"no source profile {name!r}; one of: {', '.join(sorted(paths))}")
        path = paths[name]
    return Profile(path, load_folds(config_dir))


class Profile:
    def __init__(
        self,
        path: Path,
        folds: Mapping[str, str] | None = None,
        document: dict[str, Any] | None = None,
    ) -> None:
        """The profile of the file `path`, or of `document` (a profile built in code, such
        as the tabular connector's column mapping, named by `path`)."""
        self.path = path
        if document is None:
            document, self._lines = _read_toml(path)
        else:
            self._lines = {}
        self.where_prefix = path.name
        self._check_keys(document, _TOP, "")
        head = document.get("profile", {})
        self._check_keys(head, _PROFILE_KEYS, "profile")
        self.name = str(head.get("name", ""))
        if self.name != path.stem:
            raise self._error("profile.name", f"must be the file's name {path.stem!r}")
        self.title = str(head.get("title", ""))
        self.reads = str(head.get("reads", ""))
        self.notes = str(head.get("notes", ""))
        self.input = self._input(document.get("input", {}))
        self.params = self._params(document.get("params", {}))
        self._aliases = document.get("countries", {})
        if not isinstance(self._aliases, dict):
            raise self._error("countries", 'expected "spelling" = "ALPHA3" entries')
        self._countries: Countries | None = None
        dates = document.get("input", {}).get("dates", {})
        self.scope = Scope(
            self.name,
            self._where,
            self._maps(document.get("maps", {})),
            self._country_table,
            self._dates(dates),
            bool(document.get("input", {}).get("thousands", False)),
            dict(folds or {}),
        )
        self.tables = self._tables(document.get("tables", []))
        self.derived = self._derived(document.get("derived", {}))
        self.skips = self._skips(document.get("skip", []))
        self.records = self._records(document.get("records", []))
        self._check_cycles()

    # --- loading -------------------------------------------------------------------------

    def _where(self, path: str) -> str:
        line = line_of(self._lines, path)
        return f"{self.where_prefix}:{line}" if line else self.where_prefix

    def _error(self, path: str, message: str) -> ProfileError:
        return ProfileError(f"{self._where(path)}: {path}: {message}")

    def _check_keys(self, table: Any, allowed: set[str], path: str) -> None:
        if not isinstance(table, dict):
            raise self._error(path, "expected a table")
        unknown = sorted(set(table) - allowed)
        if unknown:
            where = f"{path}.{unknown[0]}" if path else unknown[0]
            raise self._error(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")

    def _input(self, spec: Any) -> InputSpec:
        self._check_keys(spec, _INPUT_KEYS, "input")
        kind = spec.get("format")
        if kind not in FORMATS:
            raise self._error("input.format", f"must be one of {', '.join(FORMATS)}")
        null = spec.get("null", [""])
        if not isinstance(null, list) or not all(isinstance(n, str) for n in null):
            raise self._error("input.null", "a list of texts that mean 'no value'")
        rows = spec.get("rows", ["$"])
        rows = [rows] if isinstance(rows, str) else rows
        columnar = spec.get("columnar")
        if columnar is not None:
            self._check_keys(columnar, {"arrays", "lookups", "codes", "none"}, "input.columnar")
        if kind != "json" and ("rows" in spec or columnar is not None):
            raise self._error("input.rows", "rows and columnar are for format = 'json'")
        return InputSpec(
            format=kind,
            encoding=str(spec.get("encoding", "utf-8-sig")),
            delimiter=str(spec.get("delimiter", ",")),
            null=frozenset(n.strip() for n in null),
            rows=tuple(str(r) for r in rows),
            columnar=columnar,
        )

    def _dates(self, spec: Any) -> tuple[dt.date, dt.date]:
        self._check_keys(spec, {"earliest", "latest"}, "input.dates")
        bounds = []
        for key, default in (("earliest", DEFAULT_EARLIEST), ("latest", DEFAULT_LATEST)):
            value = spec.get(key, default)
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError as error:
                    raise self._error(f"input.dates.{key}", "expected YYYY-MM-DD") from error
            if not isinstance(value, dt.date):
                raise self._error(f"input.dates.{key}", "expected a date")
            bounds.append(value)
        return bounds[0], bounds[1]

    def _params(self, spec: Any) -> dict[str, Param]:
        if not isinstance(spec, dict):
            raise self._error("params", "expected NAME = default or NAME = { default, ... }")
        params: dict[str, Param] = {}
        for name, value in spec.items():
            if name in BUILTIN_PARAMS:
                raise self._error(f"params.{name}", "is built in (the registry read for)")
            if isinstance(value, dict):
                self._check_keys(value, _PARAM_KEYS, f"params.{name}")
                params[name] = Param(
                    name,
                    value.get("default"),
                    bool(value.get("required", False)),
                    str(value.get("help", "")),
                )
            else:
                params[name] = Param(name, value, False, "")
        return params

    def _maps(self, spec: Any) -> dict[str, ValueMap]:
        maps = dict(shared_vocabularies())
        if not isinstance(spec, dict):
            raise self._error("maps", "expected [maps.NAME] tables")
        for name, entries in spec.items():
            if name in maps:
                raise self._error(
                    f"maps.{name}", f"is a shared vocabulary ({VOCABULARIES.name}); rename it"
                )
            maps[name] = make_map(f"maps.{name}", entries, self._error, name)
        return maps

    def _country_table(self) -> Countries:
        if self._countries is None:
            try:
                self._countries = Countries(self._aliases)
            except ValueError as error:
                raise self._error("countries", str(error)) from error
        return self._countries

    def _tables(self, spec: Any) -> dict[str, Table]:
        if not isinstance(spec, list):
            raise self._error("tables", "expected [[tables]] entries")
        if not spec:
            sheet = SheetSpec("rows", None) if self.input.format == "xlsx" else None
            return {"rows": Table("rows", sheet, None, None)}
        tables: dict[str, Table] = {}
        for index, entry in enumerate(spec):
            path = f"tables[{index}]"
            self._check_keys(entry, _TABLE_KEYS, path)
            name = str(entry.get("name", ""))
            if not name or name in tables:
                raise self._error(path, "each table needs a name of its own")
            sheet = None
            if self.input.format == "xlsx":
                cells = entry.get("cells", {})
                if not isinstance(cells, dict):
                    raise self._error(f"{path}.cells", 'expected { name = "B3", ... }')
                header_row = entry.get("header_row", 1)
                header_rows = entry.get("header_rows", 1)
                if not (isinstance(header_row, int) and isinstance(header_rows, int)) or not (
                    1 <= header_rows <= header_row
                ):
                    raise self._error(f"{path}.header_row", "1 <= header_rows <= header_row")
                sheet = SheetSpec(name, entry.get("sheet"), header_row, header_rows, cells)
            elif {"sheet", "header_row", "header_rows", "cells"} & set(entry):
                raise self._error(path, "sheet, header_row and cells are for xlsx input")
            when = entry.get("when")
            tables[name] = Table(
                name,
                sheet,
                compile_condition(when, f"{path}.when", self.scope) if when else None,
                str(entry["endpoint"]) if "endpoint" in entry else None,
            )
        return tables

    def _table_ref(self, value: Any, path: str) -> str | None:
        if value is None:
            return None
        if value not in self.tables:
            raise self._error(path, f"no table {value!r}; tables: {', '.join(self.tables)}")
        return str(value)

    def _derived(self, spec: Any) -> dict[str, Expression]:
        if not isinstance(spec, dict):
            raise self._error("derived", "expected name = expression entries")
        derived: dict[str, Expression] = {}
        for name, expression in spec.items():
            if name in self.params or name in BUILTIN_PARAMS:
                raise self._error(f"derived.{name}", "has the name of a parameter")
            derived[name] = compile_expression(expression, f"derived.{name}", self.scope)
        return derived

    def _skips(self, spec: Any) -> list[SkipRule]:
        if not isinstance(spec, list):
            raise self._error("skip", "expected [[skip]] entries")
        skips = []
        for index, entry in enumerate(spec):
            path = f"skip[{index}]"
            self._check_keys(entry, _SKIP_KEYS, path)
            if not entry.get("reason") or "when" not in entry:
                raise self._error(path, "a skip rule needs 'when' and a 'reason'")
            skips.append(
                SkipRule(
                    self._table_ref(entry.get("table"), f"{path}.table"),
                    compile_condition(entry["when"], f"{path}.when", self.scope),
                    str(entry["reason"]),
                )
            )
        return skips

    def _records(self, spec: Any) -> list[RecordRule]:
        if not isinstance(spec, list) or not spec:
            raise self._error("records", "expected at least one [[records]] entry")
        rules = []
        for index, entry in enumerate(spec):
            path = f"records[{index}]"
            self._check_keys(entry, _RECORD_KEYS, path)
            record_type = entry.get("type")
            if record_type not in RECORD_TYPES:
                raise self._error(f"{path}.type", f"one of {', '.join(RECORD_TYPES)}")
            fields = entry.get("fields", {})
            self._check_keys(fields, set(_fields_of(record_type)), f"{path}.fields")
            when = entry.get("when")
            registry = entry.get("registry")
            rules.append(
                RecordRule(
                    path,
                    record_type,
                    self._table_ref(entry.get("table"), f"{path}.table"),
                    compile_condition(when, f"{path}.when", self.scope) if when else None,
                    compile_expression(registry, f"{path}.registry", self.scope)
                    if registry is not None
                    else None,
                    [
                        (
                            name,
                            self.scope.rule(f"{path}.fields.{name}"),
                            compile_expression(value, f"{path}.fields.{name}", self.scope),
                        )
                        for name, value in fields.items()
                    ],
                )
            )
        return rules

    def _check_cycles(self) -> None:
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = " -> ".join([*trail[trail.index(name) :], name])
                raise self._error(f"derived.{name}", f"refers to itself: {cycle}")
            state[name] = 1
            for ref in self.derived[name].refs:
                if ref in self.derived:
                    visit(ref, [*trail, name])
            state[name] = 2

        for name in self.derived:
            visit(name, [])

    # --- using ---------------------------------------------------------------------------

    @property
    def registry_from_data(self) -> bool:
        """Whether every record's reporting registry comes from the data (else the caller
        names the registry it reads for)."""
        return all(rule.registry is not None for rule in self.records)

    def bind(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The parameter values for a run: the given ones over the defaults."""
        unknown = sorted(set(given) - set(self.params) - set(BUILTIN_PARAMS))
        if unknown:
            known = ", ".join(sorted(self.params)) or "none"
            raise ParameterError(f"profile {self.name} has no parameter {unknown}; it has {known}")
        bound: dict[str, Any] = {name: None for name in BUILTIN_PARAMS}
        for name, param in self.params.items():
            bound[name] = param.default if param.default != "" else None
        bound.update({k: v for k, v in given.items() if v not in (None, "")})
        missing = [n for n, p in self.params.items() if p.required and bound.get(n) is None]
        if missing:
            helps = "; ".join(f"{n}: {self.params[n].help}" for n in missing)
            raise ParameterError(f"profile {self.name} needs parameter(s) {missing} ({helps})")
        return bound

    def rows(self, content: bytes, tables: list[str] | None = None) -> Iterator[SourceRow]:
        """The rows of one input (a file's content, or one page of an endpoint)."""
        if self.input.format == "csv":
            return read_csv(content, self.input)
        if self.input.format == "json":
            return read_json(content, self.input)
        sheets = [
            t.sheet
            for t in self.tables.values()
            if t.sheet is not None and (tables is None or t.name in tables)
        ]
        return read_xlsx(content, sheets, self.input)

    def evaluate(
        self, source: SourceRow, params: Mapping[str, Any], table: str | None = None
    ) -> Outcome:
        """Map one row: its records, or the reason it is skipped, or why it cannot be."""
        outcome = Outcome(source)
        if source.problems:
            outcome.problems = [Problem("$", problem) for problem in source.problems]
            return outcome
        row = Row(
            source.values,
            self.input.format != "json",
            params,
            self.derived,
            source.cells,
        )
        try:
            name = table or source.table or self._dispatch(row)
            for skip in self.skips:
                if skip.table in (None, name) and skip.when(row):
                    outcome.skipped = skip.reason
                    return outcome
            for rule in self.records:
                if rule.table in (None, name) and (rule.when is None or rule.when(row)):
                    outcome.records.append(self._record(rule, row, params, outcome))
            if not outcome.records:
                raise RowError(self.scope.rule("records"), "no [[records]] rule applies to it")
        except RowErrors as errors:
            outcome.records = []
            outcome.problems = [Problem(e.rule, e.message) for e in _unique(errors.errors)]
        except RowError as error:
            outcome.records = []
            outcome.problems = [Problem(error.rule, error.message)]
        outcome.notes = row.notes
        return outcome

    def _dispatch(self, row: Row) -> str:
        for table in self.tables.values():
            if table.when is None or table.when(row):
                return table.name
        raise RowError(
            self.scope.rule("tables"), f"matches no table ({', '.join(self.tables)}) of the profile"
        )

    def _record(
        self, rule: RecordRule, row: Row, params: Mapping[str, Any], outcome: Outcome
    ) -> Mapped:
        registry = params.get("registry")
        if rule.registry is not None:
            registry = rule.registry.evaluate(row) or registry
            if registry is not None and not REGISTRY_ID.match(str(registry)):
                raise RowError(
                    self.scope.rule(f"{rule.rule}.registry"),
                    f"{registry!r} is not a registry id (alpha-3 and two digits, e.g. JPN01, "
                    "or a programme id, e.g. VCS)",
                )
        outcome.registry = outcome.registry or registry
        record: dict[str, Any] = {"record_type": rule.type}
        failed: list[RowError] = []
        for name, where, expression in rule.fields:
            # Every field is tried, so the quarantine shows every reason of the row.
            try:
                value = expression.evaluate(row)
                if value.__class__ in _PLAIN:
                    if value != "":
                        record[name] = value
                elif value is not None and value != []:
                    record[name] = _output(value, where)
            except RowError as error:
                failed.append(error)
        if failed:
            raise RowErrors(failed)
        return Mapped(record, registry)

    def json_row(self, value: Any, location: str) -> SourceRow:
        """One row a connector received as JSON (an API page), as the reader gives it."""
        return json_source_row(value, location, self.input.null)

    def describe(self) -> dict[str, Any]:
        """What `metareg sources` shows."""
        return {
            "name": self.name,
            "title": self.title,
            "format": self.input.format,
            "reads": self.reads,
            "notes": self.notes,
            "tables": [
                {
                    "name": t.name,
                    **({"sheet": t.sheet.sheet} if t.sheet and t.sheet.sheet else {}),
                    **({"endpoint": t.endpoint} if t.endpoint else {}),
                }
                for t in self.tables.values()
            ],
            "records": sorted({rule.type for rule in self.records}),
            "params": {
                name: {"default": p.default, "required": p.required, "help": p.help}
                for name, p in self.params.items()
            },
            "skips": [skip.reason for skip in self.skips],
            "file": str(self.path),
        }

    def map_content(
        self, content: bytes, params: Mapping[str, Any], tables: list[str] | None = None
    ) -> Iterator[Outcome]:
        for source in self.rows(content, tables):
            yield self.evaluate(source, params)


class RowErrors(Exception):
    """Every field a record rule could not map in one row."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors)
        self.errors = errors


def _unique(errors: list[RowError]) -> list[RowError]:
    """A derived value several fields read fails once, not once per field."""
    seen: set[tuple[str, str]] = set()
    out = []
    for error in errors:
        if (error.rule, error.message) not in seen:
            seen.add((error.rule, error.message))
            out.append(error)
    return out


def _output(value: Any, rule: str) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_output(item, rule) for item in value]
    if isinstance(value, dict):
        raise RowError(
            rule,
            f"{text_of(value.get('text', '')) or 'an object'} is not one value; "
            "take a part of it, e.g. {unit.first}",
        )
    return value
