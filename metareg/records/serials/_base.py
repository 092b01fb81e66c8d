"""Shared pieces of the serial parsers: the error, the range type and small helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# Underlying serials are longer than ITMO identifiers (CAR's run to ~50 characters), but
# anything past this is not a serial; the cap bounds the work done on hostile input.
MAX_SERIAL_TEXT: Final = 300
# 18 digits always fit a signed 64-bit database column.
MAX_BLOCK_DIGITS: Final = 18
MAX_BLOCK_NUMBER: Final = 10**MAX_BLOCK_DIGITS - 1

# [0-9] rather than \d: \d matches non-ASCII digits, which int() would silently accept.
NUMBER: Final = rf"[0-9]{{1,{MAX_BLOCK_DIGITS}}}"
_WHITESPACE_RE: Final = re.compile(r"\s+")


class SerialError(ValueError):
    """A serial that no parser accepts; the message names the format tried and why."""

    def __init__(self, fmt: str, serial: str, reason: str) -> None:
        super().__init__(fmt, serial, reason)
        self.format = fmt
        self.serial = serial
        self.reason = reason

    def __str__(self) -> str:
        shown = self.serial if len(self.serial) <= 80 else self.serial[:80] + "..."
        return f"Not a valid {self.format} serial: {shown!r} ({self.reason})."


@dataclass(frozen=True, slots=True)
class UnitRange:
    """An inclusive block ``first..last`` of underlying units within one batch.

    ``prefix`` is the serial with the block numbers taken out, in the parser's canonical
    spelling, so every piece of one batch shares it and only pieces of one batch do.
    """

    prefix: str
    first: int
    last: int

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str) or not self.prefix:
            raise SerialError("unit range", repr(self.prefix), "the prefix must be non-empty text")
        if self.prefix != self.prefix.strip():
            raise SerialError("unit range", self.prefix, "the prefix has surrounding whitespace")
        for name, value in (("first", self.first), ("last", self.last)):
            # bool is an int subclass; a True block number is always an upstream bug.
            if not isinstance(value, int) or isinstance(value, bool):
                raise SerialError("unit range", repr(value), f"{name} must be an integer")
            # Some registries number blocks from 0 (Cercarbono's EcoRegistry does).
            if not 0 <= value <= MAX_BLOCK_NUMBER:
                raise SerialError(
                    "unit range", str(value), f"{name} must be 0 to {MAX_BLOCK_DIGITS} digits"
                )
        if self.last < self.first:
            raise SerialError(
                "unit range", f"{self.first}..{self.last}", "the block ends before it starts"
            )

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1


def clean(serial: object, fmt: str) -> str:
    """Type-check, length-cap, trim and collapse whitespace; the one leniency we allow."""
    if not isinstance(serial, str):
        raise SerialError(fmt, repr(serial), f"expected text, got {type(serial).__name__}")
    if len(serial) > MAX_SERIAL_TEXT:
        raise SerialError(fmt, serial, f"longer than {MAX_SERIAL_TEXT} characters")
    text = _WHITESPACE_RE.sub(" ", serial).strip()
    if not text:
        raise SerialError(fmt, serial, "empty serial")
    return text


def make_range(fmt: str, serial: str, prefix: str, first: str, last: str) -> UnitRange:
    """Build a UnitRange from matched digit strings, reporting problems as ``fmt`` errors."""
    start, end = int(first), int(last)
    if end < start:
        raise SerialError(fmt, serial, f"the block ends ({end}) before it starts ({start})")
    return UnitRange(prefix, start, end)


def require_prefix(fmt: str, unit_range: UnitRange, pattern: re.Pattern[str]) -> list[str]:
    """Check that a range's prefix is canonical for a format; return it split on '-'."""
    if pattern.fullmatch(unit_range.prefix) is None:
        raise SerialError(fmt, unit_range.prefix, "the prefix does not have this format's shape")
    return unit_range.prefix.split("-")


def ascii_upper(text: str, fmt: str) -> str:
    """Upper-case a programme serial, refusing non-ASCII first.

    Programme serials are ASCII; without this check str.upper() would turn e.g. the
    long s in 'Gſ1-...' into a valid-looking 'GS1-...'.
    """
    if not text.isascii():
        raise SerialError(fmt, text, "contains non-ASCII characters")
    return text.upper()
