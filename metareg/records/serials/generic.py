"""The fallback for serials no programme parser claims: a prefix, then block numbers.

Accepted shapes, tried in this order (``N``, ``M`` are block numbers):

1. ``PREFIX N to M`` / ``PREFIX-N - PREFIX-M`` / ``PREFIX N - M`` ('to', '-', en or em
   dash between spaces); the right end is a bare number or a full serial of the same
   prefix.
2. ``PREFIXN-PREFIXM``: two full serials joined by a bare hyphen (CADT's
   ``serialNumberBlock``, e.g. ``AXJJFSLGHSHEJ1000-AXJJFSLGHSHEJ1010``).
3. ``PREFIX-N-M`` with ``N <= M``: a trailing hyphenated pair. When ``N > M`` the pair
   cannot be a block, so ``N`` belongs to the prefix (e.g. ``...-2023-5``).
4. ``PREFIX-N``: one unit.

The prefix must contain something other than separators, and trailing separators are
dropped from it so ``X-5`` and ``X 5 to 9`` share the prefix ``X``. The shape is a guess
about an unknown format; programme parsers exist precisely where the guess goes wrong.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import (
    MAX_BLOCK_DIGITS,
    MAX_SERIAL_TEXT,
    SerialError,
    UnitRange,
    clean,
    make_range,
)
from metareg.records.serials.grammar import split_ends

NAME: Final = "generic"

# Characters that join a prefix to its block number and carry no meaning of their own.
SEPARATORS: Final = "-_ /.:#"
_RANGE_SPLIT_RE: Final = re.compile(r" (?:to|-|\u2013|\u2014) ", re.IGNORECASE)
# A lazy prefix makes the number take the whole trailing digit run, so an over-long run
# is reported instead of being silently cut at 18 digits.
_TRAILING_RE: Final = re.compile(r"(?P<prefix>.*?)(?P<number>[0-9]+)", re.DOTALL)
_TRAILING_PAIR_RE: Final = re.compile(
    r"(?P<prefix>.*?)(?P<first>[0-9]+)-(?P<last>[0-9]+)", re.DOTALL
)


def _number(text: str, digits: str) -> str:
    if len(digits) > MAX_BLOCK_DIGITS:
        raise SerialError(NAME, text, f"a block number longer than {MAX_BLOCK_DIGITS} digits")
    return digits


def _prefix(raw: str) -> str:
    return raw.rstrip(SEPARATORS)


def _split(piece: str) -> tuple[str, str] | None:
    """``(prefix, digits)`` for a piece ending in a number after a real prefix."""
    match = _TRAILING_RE.fullmatch(piece)
    if match is None:
        return None
    prefix = _prefix(match["prefix"])
    if not prefix:
        return None
    return prefix, match["number"]


def _spaced_range(text: str, start: str, end: str) -> UnitRange:
    left = _split(start)
    if left is None:
        raise SerialError(NAME, text, "the block start is not a prefix followed by a number")
    prefix, first = left
    if end.isascii() and end.isdigit():
        last = end
    else:
        right = _split(end)
        if right is None or right[0] != prefix:
            raise SerialError(
                NAME, text, "the block end is not a number or a serial of the same batch"
            )
        last = right[1]
    return make_range(NAME, text, prefix, _number(text, first), _number(text, last))


def _ordered(text: str, prefix: str, first: str, last: str) -> UnitRange | None:
    """The block `first`..`last`, or None when it would run backwards (then the digits
    are not a block: the caller reads the serial another way)."""
    first, last = _number(text, first), _number(text, last)
    return make_range(NAME, text, prefix, first, last) if int(first) <= int(last) else None


def _hyphen_joined_range(text: str) -> UnitRange | None:
    for index, char in enumerate(text):
        if char != "-":
            continue
        left, right = _split(text[:index]), _split(text[index + 1 :])
        if left is not None and right is not None and left[0] == right[0]:
            block = _ordered(text, left[0], left[1], right[1])
            if block is not None:
                return block
    return None


def parse_generic(serial: str) -> UnitRange:
    text = clean(serial, NAME)
    start, end = split_ends(NAME, text, _RANGE_SPLIT_RE)
    if end is not None:
        return _spaced_range(text, start, end)
    joined = _hyphen_joined_range(text)
    if joined is not None:
        return joined
    pair = _TRAILING_PAIR_RE.fullmatch(text)
    if pair is not None and _prefix(pair["prefix"]):
        block = _ordered(text, _prefix(pair["prefix"]), pair["first"], pair["last"])
        if block is not None:
            return block
    single = _split(text)
    if single is None:
        raise SerialError(NAME, text, "no prefix followed by a block number")
    number = _number(text, single[1])
    return make_range(NAME, text, single[0], number, number)


def is_canonical_prefix(prefix: str) -> bool:
    """Whether ``format_generic`` can write this prefix so it parses back unchanged."""
    try:
        cleaned = clean(prefix, NAME)
    except SerialError:
        return False
    return (
        prefix == cleaned and prefix == _prefix(prefix) and _RANGE_SPLIT_RE.search(prefix) is None
    )


def format_generic(unit_range: UnitRange) -> str:
    # Always ' to ': a bare 'X-2020-2023' would be read back as the block 2020..2023.
    if not is_canonical_prefix(unit_range.prefix):
        raise SerialError(NAME, unit_range.prefix, "this prefix cannot be written unambiguously")
    text = f"{unit_range.prefix}-{unit_range.first} to {unit_range.last}"
    if len(text) > MAX_SERIAL_TEXT:
        raise SerialError(NAME, text, f"longer than {MAX_SERIAL_TEXT} characters")
    return text
