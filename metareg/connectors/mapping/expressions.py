"""Compiling and evaluating the expressions of a profile.

An expression is compiled once, when the profile is loaded, into a function of a row;
templates are parsed into their pieces then, regular expressions compiled then, value
maps and country aliases checked then. Evaluating a row only looks values up and
converts them. docs/connectors.md ("Source profiles and the mapping language") is the
reference of what each form means; this module is its implementation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from metareg.connectors.mapping.approaches import APPROACH_ID, ApproachNote, provisional_id
from metareg.connectors.mapping.errors import ProfileError, RowError
from metareg.connectors.mapping.values import (
    CONVERSIONS,
    Countries,
    MapConflict,
    ValueMap,
    ValueProblem,
    shown,
    text_of,
    to_date,
    to_integer,
    to_number,
    to_year,
)
from metareg.records.serials import SerialError, parse_serial

SOURCES = ("column", "value", "template", "const", "first_of", "approach")
STEPS = (
    "regex",
    "no_match",
    "split",
    "map",
    "unmapped",
    "country",
    "serial",
    "as",
    "format",
    "default",
    "required",
    "optional",
)
APPROACH_KEYS = ("provisional", "name")
TESTS = ("empty", "equals", "in", "not_in", "matches")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def label_key(label: object) -> str:
    """How a tabular header and a profile's column name are compared: case, non-breaking
    spaces, runs of blanks and a trailing '*' (the templates' 'required' mark) ignored."""
    text = str(label).replace("\xa0", " ").strip().rstrip("*").strip()
    return _SPACES.sub(" ", text).casefold()


@dataclass
class Row:
    """One source row while it is evaluated: its cells, the names it may use, and the
    derived values computed so far (each at most once)."""

    values: Mapping[str, Any]
    tabular: bool
    params: Mapping[str, Any]
    derived: Mapping[str, Expression]
    cells: Mapping[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    notes: list[ApproachNote] = field(default_factory=list)

    def lookup(self, name: str, rule: str, optional: bool = False) -> Any:
        if name in self.cache:
            return self.cache[name]
        if name in self.derived:
            self.cache[name] = value = self.derived[name].evaluate(self)
            return value
        if name in self.params:
            return self.params[name]
        if name in self.cells:
            return self.cells[name]
        return self.column(name, rule, optional)

    def column(self, name: str, rule: str, optional: bool = False) -> Any:
        key = label_key(name) if self.tabular else name
        if key in self.values:
            return self.values[key]
        if "." in name:
            head, rest = name.split(".", 1)
            return _walk(self.lookup(head, rule, optional), rest, name, rule)
        if self.tabular and not optional:
            known = ", ".join(sorted(self.values))[:300]
            raise RowError(rule, f"no column {name!r} in this input (columns: {known})")
        return None


def _walk(value: Any, rest: str, name: str, rule: str) -> Any:
    for part in rest.split("."):
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        else:
            raise RowError(rule, f"{name}: {shown(value)} has no part {part!r}")
    return value


Evaluator = Callable[[Row], Any]


@dataclass
class Expression:
    evaluate: Evaluator
    refs: set[str]  # names it reads (for the load-time cycle check)


class Scope:
    """What an expression may refer to, known when the profile is loaded."""

    def __init__(
        self,
        profile: str,
        where: Callable[[str], str],
        maps: Mapping[str, ValueMap],
        countries: Callable[[], Countries],
        dates: tuple[dt.date, dt.date],
        thousands: bool,
        folds: Mapping[str, str],
    ) -> None:
        self.profile = profile
        self.where = where
        self.maps = maps
        self.countries = countries
        self.dates = dates
        self.thousands = thousands
        self.folds = folds

    def error(self, path: str, message: str) -> ProfileError:
        return ProfileError(f"{self.where(path)}: {path}: {message}")

    def rule(self, path: str) -> str:
        return f"{self.where(path)} {path}"


# --- templates ---------------------------------------------------------------------------

_PIECE = re.compile(r"\{\{|\}\}|\{([^{}:]+)(?::([^{}]*))?\}|[{}]")


def _format(value: Any, spec: str) -> str:
    kind = value.__class__
    if not spec and (kind is str or kind is int):
        return str(value)
    if kind is dict and "text" in value:
        value = value["text"]
    if isinstance(value, dict | list):
        raise ValueProblem(f"{shown(value)} is not a single value")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return format(value, spec) if spec else text_of(value)


def _fits_some_value(spec: str) -> bool:
    """A format spec for numbers ('07') or for text ('>10'); strftime specs ('%Y') aside."""
    for sample in (0, ""):
        try:
            format(sample, spec)
            return True
        except ValueError:
            continue
    return False


def compile_template(text: str, path: str, scope: Scope) -> Expression:
    """`"JCM-{reference_no}-{issued:%Y%m%d}"`: literal text and `{name}` or `{name:spec}`
    (Python format spec; strftime for dates); `{{`/`}}` are braces. A template with an
    empty part is empty."""
    pieces: list[tuple[str, str, str]] = []
    literal = ""
    position = 0
    for match in _PIECE.finditer(text):
        literal += text[position : match.start()]
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal += token[0]
        elif token in ("{", "}"):
            raise scope.error(path, f"unbalanced {token!r} in template {text!r} (use {{{{ }}}})")
        else:
            pieces.append((literal, match.group(1).strip(), match.group(2) or ""))
            literal = ""
    tail = literal + text[position:]
    if not pieces:
        return Expression(lambda row: tail, set())
    rule = scope.rule(path)
    for _literal, _name, spec in pieces:
        if spec and "%" not in spec and not _fits_some_value(spec):
            raise scope.error(path, f"bad format {spec!r} in template {text!r}")

    def evaluate(row: Row) -> Any:
        out: list[str] = []
        for before, name, spec in pieces:
            value = row.lookup(name, rule)
            if value is None or value == "" or value == []:
                return None
            try:
                out.append(before + _format(value, spec))
            except (ValueError, TypeError) as error:
                raise RowError(rule, f"cannot write {shown(value)} as {{{name}:{spec}}}") from error
        out.append(tail)
        return "".join(out)

    return Expression(evaluate, {name.split(".", 1)[0] for _, name, _ in pieces})


# --- expressions -------------------------------------------------------------------------


def compile_expression(spec: Any, path: str, scope: Scope) -> Expression:
    if isinstance(spec, str):
        return compile_template(spec, path, scope)
    if isinstance(spec, bool | int | float):
        return Expression(lambda row: spec, set())
    if isinstance(spec, list):
        items = [compile_expression(item, f"{path}[{n}]", scope) for n, item in enumerate(spec)]

        def listed(row: Row) -> Any:
            values = [item.evaluate(row) for item in items]
            return [value for value in values if value not in (None, "")] or None

        return Expression(listed, set().union(*(item.refs for item in items)))
    if not isinstance(spec, dict):
        raise scope.error(path, f"expected text, a number, a list or a table, got {shown(spec)}")
    sources = [key for key in SOURCES if key in spec]
    if len(sources) != 1:
        raise scope.error(path, f"needs exactly one of {', '.join(SOURCES)}; got {sources}")
    allowed = {sources[0], *STEPS, *(APPROACH_KEYS if sources[0] == "approach" else ())}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise scope.error(path, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    source = _compile_source(sources[0], spec, path, scope)
    return _compile_steps(source, spec, path, scope)


def _compile_source(kind: str, spec: dict[str, Any], path: str, scope: Scope) -> Expression:
    value = spec[kind]
    rule = scope.rule(path)
    optional = bool(spec.get("optional", False))
    if kind == "column":
        if not isinstance(value, str) or not value.strip():
            raise scope.error(path, "column must name a column")
        return Expression(lambda row: row.column(value, rule, optional), set())
    if kind == "value":
        if not isinstance(value, str) or not value.strip():
            raise scope.error(path, "value must name a derived value, parameter or column")
        return Expression(lambda row: row.lookup(value, rule, optional), {value.split(".")[0]})
    if kind == "template":
        if not isinstance(value, str):
            raise scope.error(path, "template must be text")
        return compile_template(value, path, scope)
    if kind == "const":
        return Expression(lambda row: value, set())
    if kind == "first_of":
        if not isinstance(value, list) or len(value) < 2:
            raise scope.error(path, "first_of needs a list of at least two expressions")
        options = [
            compile_expression(v, f"{path}.first_of[{n}]", scope) for n, v in enumerate(value)
        ]

        def first(row: Row) -> Any:
            for option in options:
                found = option.evaluate(row)
                if found not in (None, "", []):
                    return found
            return None

        return Expression(first, set().union(*(o.refs for o in options)))
    return _compile_approach(spec, path, scope)


def _compile_approach(spec: dict[str, Any], path: str, scope: Scope) -> Expression:
    """`{ approach = "{ca}", provisional = "CAP-{host}-SIQ", name = "..." }`: the source's
    approach id when it is a UNFCCC `CA0000` id, else the provisional id the template
    derives (and a note with the source's name for it)."""
    if "provisional" not in spec or "name" not in spec:
        raise scope.error(path, "approach needs 'provisional' (an id template) and 'name'")
    stated = compile_template(str(spec["approach"]), f"{path}.approach", scope)
    derived = compile_template(str(spec["provisional"]), f"{path}.provisional", scope)
    named = compile_template(str(spec["name"]), f"{path}.name", scope)
    rule = scope.rule(f"{path}.provisional")
    folds = scope.folds
    ids: dict[str, str] = {}  # provisional id of each derived text, computed once

    def approach(row: Row) -> Any:
        text = stated.evaluate(row)
        if text is not None and APPROACH_ID.match(str(text).strip()):
            return str(text).strip()
        base = derived.evaluate(row)
        if base is None:
            raise RowError(rule, "the provisional id template has an empty part")
        found = ids.get(base)
        if found is None:
            try:
                found = ids[base] = provisional_id(str(base))
            except ValueError as error:
                raise RowError(rule, str(error)) from error
        real = folds.get(found)
        name = named.evaluate(row) or found
        row.notes.append(ApproachNote(found, str(name), scope.profile, real))
        return real or found

    return Expression(approach, stated.refs | derived.refs | named.refs)


def _compile_steps(source: Expression, spec: dict[str, Any], path: str, scope: Scope) -> Expression:
    if not set(spec) & set(STEPS) - {"optional"}:
        return source  # nothing to apply: no wrapper to pay for on every row
    steps: list[Callable[[Any], Any]] = []
    rule = scope.rule(path)
    if "regex" in spec:
        steps.append(_regex_step(spec, path, scope))
    elif "no_match" in spec:
        raise scope.error(path, "no_match goes with regex")
    split = None
    if "split" in spec:
        try:
            split = re.compile(str(spec["split"]))
        except re.error as error:
            raise scope.error(path, f"split is not a regular expression: {error}") from error
    per_item: list[Callable[[Any], Any]] = []
    if "map" in spec:
        per_item.append(_map_step(spec, path, scope))
    elif "unmapped" in spec:
        raise scope.error(path, "unmapped goes with map")
    if spec.get("country"):
        if spec["country"] is not True:
            raise scope.error(path, "country = true is the only form")
        countries = scope.countries()
        per_item.append(countries.alpha3)
    if "serial" in spec:
        per_item.append(_serial_step(spec["serial"], path, scope))
    if "as" in spec:
        per_item.append(_conversion(spec, path, scope))
    elif "format" in spec:
        raise scope.error(path, "format goes with as = 'date' or 'year'")
    default = spec.get("default")
    required = bool(spec.get("required", False))
    empty = _emptiness(spec)

    def apply(value: Any) -> Any:
        if value is None:
            return None
        for step in per_item:
            value = step(value)
            if value is None:
                return None
        return value

    def evaluate(row: Row) -> Any:
        value = source.evaluate(row)
        try:
            for step in steps:
                if value is None:
                    break
                value = step(value)
            if split is not None and value is not None:
                parts = [p.strip() for p in split.split(text_of(value))]
                value = [apply(part) for part in parts if part] or None
                if value is not None:
                    value = [item for item in value if item is not None] or None
            elif isinstance(value, list):
                value = [item for item in (apply(v) for v in value) if item is not None] or None
            elif value is not None:
                value = apply(value)
        except (ValueProblem, SerialError) as error:
            raise RowError(rule, str(error)) from error
        if value is None or value == "":
            value = default
        if value is None and required:
            raise RowError(rule, f"has no value: {empty} (required)")
        return value

    return Expression(evaluate, source.refs)


def _emptiness(spec: dict[str, Any]) -> str:
    """What an empty result means, for a `required` error."""
    kind = next(key for key in SOURCES if key in spec)
    if kind in ("column", "value"):
        return f"{kind} {spec[kind]!r} is empty or absent"
    if kind == "first_of":
        names = [
            str(next((o[k] for k in ("column", "value", "template") if k in o), "?"))
            if isinstance(o, dict)
            else str(o)
            for o in spec[kind]
        ]
        return f"none of {', '.join(names)} has a value"
    return "it is empty"


def _regex_step(spec: dict[str, Any], path: str, scope: Scope) -> Callable[[Any], Any]:
    try:
        pattern = re.compile(str(spec["regex"]))
    except re.error as error:
        raise scope.error(path, f"regex {spec['regex']!r} does not compile: {error}") from error
    no_match = spec.get("no_match", "error")
    if no_match not in ("error", "empty"):
        raise scope.error(path, "no_match is 'error' (default) or 'empty'")
    named = list(pattern.groupindex)

    def extract(value: Any) -> Any:
        text = text_of(value)
        match = pattern.search(text)
        if match is None:
            if no_match == "empty":
                return None
            raise ValueProblem(f"regex {pattern.pattern!r} matched nothing in {shown(text)}")
        if len(named) > 1:
            return {name: match.group(name) for name in named}
        if pattern.groups:
            return match.group(named[0] if named else 1)
        return match.group(0)

    return extract


def _map_step(spec: dict[str, Any], path: str, scope: Scope) -> Callable[[Any], Any]:
    keep = spec.get("unmapped", "error")
    if keep not in ("error", "keep"):
        raise scope.error(path, "unmapped is 'error' (default) or 'keep'")
    wanted = spec["map"]
    if isinstance(wanted, str):
        if wanted not in scope.maps:
            raise scope.error(path, f"no map {wanted!r}; maps: {', '.join(sorted(scope.maps))}")
        value_map = scope.maps[wanted]
    elif isinstance(wanted, dict):
        value_map = make_map(f"{path}.map", wanted, scope.error)
    else:
        raise scope.error(path, "map is the name of a [maps] table or an inline table")
    return lambda value: value_map.get(value, keep == "keep")


def make_map(
    path: str, spec: Any, error: Callable[[str, str], ProfileError], name: str | None = None
) -> ValueMap:
    """The value map written at `path` (named `name` in messages, else by its path)."""
    if not isinstance(spec, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in spec.values()
    ):
        raise error(path, 'a map is canonical = ["synonym", ...] for each canonical value')
    try:
        return ValueMap(name or path, spec)
    except MapConflict as problem:
        raise error(f"{path}.{problem.canonical}", str(problem)) from problem


def _serial_step(registry: Any, path: str, scope: Scope) -> Callable[[Any], Any]:
    """The programme serial parsers of `metareg.records.serials`: the value becomes
    `{text, prefix, first, last, quantity, parts}` (parts: the prefix split on '-')."""
    if not isinstance(registry, str) or not registry:
        raise scope.error(path, 'serial names the programme ("VCS", "GS", "UNDP", ...) or "auto"')
    programme = None if registry == "auto" else registry

    def parse(value: Any) -> Any:
        text = text_of(value)
        found = parse_serial(text, programme)
        return {
            "text": text,
            "prefix": found.prefix,
            "first": found.first,
            "last": found.last,
            "quantity": found.quantity,
            "parts": found.prefix.split("-"),
        }

    return parse


def _conversion(spec: dict[str, Any], path: str, scope: Scope) -> Callable[[Any], Any]:
    kind = spec["as"]
    if kind not in CONVERSIONS:
        raise scope.error(path, f"as is one of {', '.join(CONVERSIONS)}; got {kind!r}")
    formats = spec.get("format", [])
    formats = [formats] if isinstance(formats, str) else formats
    if kind not in ("date", "year") and formats:
        raise scope.error(path, "format goes with as = 'date' or 'year'")
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise scope.error(path, "format is a strptime format or a list of them")
    earliest, latest = scope.dates
    thousands = scope.thousands
    if kind == "integer":
        return lambda value: to_integer(value, thousands)
    if kind == "number":
        return lambda value: to_number(value, thousands)
    if kind == "date":
        return lambda value: to_date(value, formats, earliest, latest)
    if kind == "year":
        return lambda value: to_year(value, formats)
    if kind == "list":
        return lambda value: [p.strip() for p in text_of(value).split(";") if p.strip()] or None
    return lambda value: text_of(value) or None


# --- conditions --------------------------------------------------------------------------


def compile_condition(spec: Any, path: str, scope: Scope) -> Callable[[Row], bool]:
    """`{ column = "issued_amount", empty = true }`, `{ value = "x", in = [...] }`, ...;
    a list of conditions holds when all of them hold."""
    if isinstance(spec, list):
        parts = [compile_condition(item, f"{path}[{n}]", scope) for n, item in enumerate(spec)]
        return lambda row: all(part(row) for part in parts)
    if not isinstance(spec, dict):
        raise scope.error(path, "a condition is a table like { column = 'X', empty = true }")
    tests = [key for key in TESTS if key in spec]
    if len(tests) != 1:
        raise scope.error(path, f"a condition needs exactly one test of {', '.join(TESTS)}")
    test = tests[0]
    subject = compile_expression({k: v for k, v in spec.items() if k != test}, path, scope)
    wanted = spec[test]
    if test == "empty":
        if not isinstance(wanted, bool):
            raise scope.error(path, "empty = true or false")
        return lambda row: (subject.evaluate(row) in (None, "", [])) is wanted
    if test == "matches":
        try:
            pattern = re.compile(str(wanted))
        except re.error as error:
            raise scope.error(path, f"matches does not compile: {error}") from error
        return lambda row: _text_or_none(subject.evaluate(row), pattern)
    if test == "equals":
        wanted = [wanted]
    elif not isinstance(wanted, list):
        raise scope.error(path, f"{test} takes a list")
    choices = {text_of(item) for item in wanted}
    negate = test == "not_in"

    def member(row: Row) -> bool:
        value = subject.evaluate(row)
        found = value is not None and text_of(value) in choices
        return found is not negate

    return member


def _text_or_none(value: Any, pattern: re.Pattern[str]) -> bool:
    return value is not None and pattern.search(text_of(value)) is not None
