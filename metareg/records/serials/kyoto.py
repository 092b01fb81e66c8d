"""Kyoto Protocol unit identifiers, e.g. CDM CERs: ``RW-5-1463953-2-2-0-7014``.

Originating Party (ISO alpha-2), unit type (5 = CER), serial, original commitment
period, applicable commitment period, LULUCF activity, project id. A block is written
as two full identifiers, ``RW-5-1459975-2-2-0-7014 - RW-5-1460107-2-2-0-7014``, which
is how the Gold Standard registry lists CERs it took over from the CDM.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import (
    NUMBER,
    SerialError,
    UnitRange,
    ascii_upper,
    clean,
    make_range,
    require_prefix,
)

NAME: Final = "Kyoto Protocol unit"

_HEAD: Final = r"[A-Z]{2}-[0-9]"
_TAIL: Final = r"[0-9]-[0-9]-[0-9]{1,2}-[0-9]{1,10}"
_UNIT_RE: Final = re.compile(rf"(?P<head>{_HEAD})-(?P<serial>{NUMBER})-(?P<tail>{_TAIL})")
_PREFIX_RE: Final = re.compile(rf"{_HEAD}-{_TAIL}")
_RANGE_SPLIT_RE: Final = re.compile(r" (?:-|TO) ")
_CLAIM_RE: Final = re.compile(r"[A-Za-z]{2}-[0-9]+-[0-9]+-")


def claims(text: str) -> bool:
    return _CLAIM_RE.match(text) is not None


def _unit(text: str, piece: str) -> tuple[str, str]:
    match = _UNIT_RE.fullmatch(piece)
    if match is None:
        raise SerialError(
            NAME, text, "expected Party-type-serial-originalCP-applicableCP-LULUCF-project"
        )
    return f"{match['head']}-{match['tail']}", match["serial"]


def parse_kyoto(serial: str) -> UnitRange:
    text = ascii_upper(clean(serial, NAME), NAME)
    pieces = _RANGE_SPLIT_RE.split(text)
    if len(pieces) == 1:
        prefix, number = _unit(text, pieces[0])
        return make_range(NAME, text, prefix, number, number)
    if len(pieces) != 2:
        raise SerialError(NAME, text, "more than one range separator")
    prefix, first = _unit(text, pieces[0])
    other_prefix, last = _unit(text, pieces[1])
    if other_prefix != prefix:
        raise SerialError(NAME, text, "the two ends of the block belong to different batches")
    return make_range(NAME, text, prefix, first, last)


def format_kyoto(unit_range: UnitRange) -> str:
    head1, head2, *tail = require_prefix(NAME, unit_range, _PREFIX_RE)
    head = f"{head1}-{head2}"
    rest = "-".join(tail)

    def unit(number: int) -> str:
        return f"{head}-{number}-{rest}"

    if unit_range.first == unit_range.last:
        return unit(unit_range.first)
    return f"{unit(unit_range.first)} - {unit(unit_range.last)}"
