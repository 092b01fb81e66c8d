"""The value conversions of the mapping language: exact numbers, dates in a plausible
window, text, ISO 3166 countries (pycountry) and value maps with synonyms.

Each conversion takes a cell as the source gives it (CSV text, a JSON value, an XLSX
number or datetime) and returns the typed value or raises `ValueProblem` with a sentence
for the quarantine. Nothing here guesses: a number is a plain integer or an integral
decimal text (never read through a float: `123456789012345678.0` stays that integer), a
date is ISO or one of the formats the profile declares.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

CONVERSIONS = ("text", "integer", "number", "date", "year", "list")
EPOCH_MS = "epoch_ms"  # a date format: milliseconds since 1970 (the UNDP registry's)
DEFAULT_EARLIEST = dt.date(1990, 1, 1)
DEFAULT_LATEST = dt.date(2100, 12, 31)
# Integers above this cannot come exactly from a spreadsheet's double-precision cell.
EXACT_FLOAT_LIMIT = 2**53

_INTEGER = re.compile(r"^[+-]?[0-9]+(?:\.0*)?$")
_GROUPED = re.compile(r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?$")
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:$|[T ])")
_YEAR = re.compile(r"^[0-9]{4}$")
_SPACES = re.compile(r"\s+")


class ValueProblem(ValueError):
    """A cell that is not what the rule says it is."""


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def text_of(value: Any) -> str:
    """A cell as text: integral XLSX numbers without '.0', dates in ISO form."""
    kind = value.__class__
    if kind is str:
        return str(value).strip()
    if kind is int:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return (value.date() if value.time() == dt.time() else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        raise ValueProblem(f"expected a single value, got {shown(value)}")
    return str(value).strip()


def to_integer(value: Any, thousands: bool = False) -> int:
    if isinstance(value, bool):
        raise ValueProblem(f"expected a whole number, got {shown(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < EXACT_FLOAT_LIMIT:
            return int(value)
        if value.is_integer():
            raise ValueProblem(
                f"{value!r} is too large to be exact in a spreadsheet number; store it as text"
            )
        raise ValueProblem(f"expected a whole number, got {shown(value)}")
    text = text_of(value)
    if thousands and _GROUPED.match(text):
        text = text.replace(",", "")
    if not _INTEGER.match(text):
        raise ValueProblem(f"expected a whole number, got {shown(text)}")
    return int(text.split(".", 1)[0])


def to_number(value: Any, thousands: bool = False) -> int | float:
    if isinstance(value, bool):
        raise ValueProblem(f"expected a number, got {shown(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueProblem(f"expected a finite number, got {shown(value)}")
        return int(value) if value.is_integer() and abs(value) < EXACT_FLOAT_LIMIT else value
    text = text_of(value)
    if thousands and _GROUPED.match(text):
        text = text.replace(",", "")
    if not _DECIMAL.match(text):
        raise ValueProblem(f"expected a number, got {shown(text)}")
    try:
        exact = Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - the pattern already ruled it out
        raise ValueProblem(f"expected a number, got {shown(text)}") from error
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def to_date(
    value: Any,
    formats: Iterable[str] = (),
    earliest: dt.date = DEFAULT_EARLIEST,
    latest: dt.date = DEFAULT_LATEST,
) -> dt.date:
    """A calendar date: a date cell, ISO text (a time after it is ignored), one of the
    declared strptime formats, or epoch milliseconds; outside [earliest, latest] it is
    a problem, not a date (a typed year 2999 or an Excel zero date)."""
    found = _parse_date(value, tuple(formats))
    if not earliest <= found <= latest:
        raise ValueProblem(
            f"date {found.isoformat()} is outside the plausible window "
            f"{earliest.isoformat()}..{latest.isoformat()} (input.dates)"
        )
    return found


def _parse_date(value: Any, formats: tuple[str, ...]) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if EPOCH_MS in formats and not isinstance(value, bool):
        try:
            millis = to_integer(value)
        except ValueProblem:
            millis = None
        if millis is not None:
            try:
                return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).date()
            except (OverflowError, OSError, ValueError) as error:
                raise ValueProblem(f"{millis} is not a date in epoch milliseconds") from error
    text = text_of(value)
    match = _ISO_DATE.match(text)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError as error:
            raise ValueProblem(f"{shown(text)} is not a calendar date") from error
    for pattern in formats:
        if pattern == EPOCH_MS:
            continue
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    wanted = ", ".join(["YYYY-MM-DD", *formats])
    raise ValueProblem(f"expected a date ({wanted}), got {shown(text)}")


def to_year(value: Any, formats: Iterable[str] = ()) -> int:
    """A year: a whole number of four digits, or the year of a date."""
    if isinstance(value, dt.date):
        return value.year
    if isinstance(value, int | float) and not isinstance(value, bool):
        year = to_integer(value)
        if 1000 <= year <= 9999:
            return year
        raise ValueProblem(f"expected a year, got {shown(value)}")
    text = text_of(value)
    if _YEAR.match(text):
        return int(text)
    try:
        return _parse_date(text, tuple(formats)).year
    except ValueProblem as error:
        raise ValueProblem(f"expected a year or a date, got {shown(text)}") from error


def fold(text: str) -> str:
    """How value-map keys are compared: case folded, blanks collapsed, ends trimmed."""
    return _SPACES.sub(" ", text.replace("\xa0", " ")).strip().casefold()


class MapConflict(ValueError):
    """One spelling given to two canonical values of a map."""

    def __init__(self, message: str, canonical: str) -> None:
        super().__init__(message)
        self.canonical = canonical


class ValueMap:
    """Canonical values with their synonyms: `{"GHG" = ["GHC", "tCO2e"]}`. A value matches
    its canonical spelling or any synonym after `fold`; no match is a problem unless the
    rule keeps unmapped values."""

    def __init__(self, name: str, spec: Mapping[str, Iterable[str]]) -> None:
        self.name = name
        self.lookup: dict[str, str] = {}
        for canonical, synonyms in spec.items():
            for spelling in (canonical, *synonyms):
                key = fold(spelling)
                known = self.lookup.get(key)
                if known is not None and known != canonical:
                    raise MapConflict(
                        f"{spelling!r} means both {known!r} and {canonical!r} in map {name}",
                        canonical,
                    )
                self.lookup[key] = canonical
        self.canonical = tuple(spec)

    def get(self, value: Any, keep_unmapped: bool) -> Any:
        text = text_of(value)
        found = self.lookup.get(fold(text))
        if found is not None:
            return found
        if keep_unmapped:
            return text
        raise ValueProblem(
            f"{shown(text)} is not in map {self.name} (one of: {', '.join(self.canonical)})"
        )


class Countries:
    """ISO 3166 alpha-3 codes from what a source writes: an alpha-2, alpha-3 or numeric
    code or an English name, as pycountry knows them, plus the profile's own aliases for
    spellings pycountry does not know."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        import pycountry

        self._countries = pycountry.countries
        self.aliases: dict[str, str] = {}
        for spelling, code in aliases.items():
            if self._known(spelling) is not None:
                raise ValueError(
                    f"alias {spelling!r}: pycountry already knows it as "
                    f"{self._known(spelling)}; remove the alias"
                )
            if self._countries.get(alpha_3=str(code).upper()) is None:
                raise ValueError(f"alias {spelling!r}: {code!r} is not an ISO 3166 alpha-3 code")
            self.aliases[fold(spelling)] = str(code).upper()
        self._cache: dict[str, str | None] = {}

    def _known(self, text: str) -> str | None:
        try:
            return str(self._countries.lookup(text.strip()).alpha_3)
        except LookupError:
            return None

    def alpha3(self, value: Any) -> str:
        text = text_of(value)
        key = fold(text)
        if key not in self._cache:
            self._cache[key] = self.aliases.get(key) or self._known(text)
        found = self._cache[key]
        if found is None:
            raise ValueProblem(
                f"{shown(text)} is not a country pycountry knows (an ISO 3166 code or an "
                "English name); add it under [countries] if it is a spelling of one"
            )
        return found
