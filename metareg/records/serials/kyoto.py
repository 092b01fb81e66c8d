"""Kyoto Protocol unit identifiers, e.g. CDM CERs: ``RW-5-1463953-2-2-0-7014``.

Originating Party (ISO alpha-2), unit type (5 = CER), serial, original commitment
period, applicable commitment period, LULUCF activity, project id. A block is written
as two full identifiers, ``RW-5-1459975-2-2-0-7014 - RW-5-1460107-2-2-0-7014``, which
is how the Gold Standard registry lists CERs it took over from the CDM.
"""

from __future__ import annotations

import re
from typing import Final

from metareg.records.serials._base import NUMBER, SerialError, UnitRange, make_range
from metareg.records.serials.grammar import Grammar, split_ends

NAME: Final = "Kyoto Protocol unit"

_HEAD: Final = r"[A-Z]{2}-[0-9]"
_TAIL: Final = r"[0-9]-[0-9]-[0-9]{1,2}-[0-9]{1,10}"
_RANGE_SPLIT_RE: Final = re.compile(r" (?:-|TO) ")
GRAMMAR: Final = Grammar(
    NAME,
    claim=re.compile(r"[A-Za-z]{2}-[0-9]+-[0-9]+-"),
    serial=re.compile(rf"(?P<head>{_HEAD})-(?P<first>{NUMBER})-(?P<tail>{_TAIL})"),
    shape="Party-type-serial-originalCP-applicableCP-LULUCF-project",
    prefix=re.compile(rf"{_HEAD}-{_TAIL}"),
)


def _unit(text: str, piece: str) -> tuple[str, str]:
    """(batch prefix, serial number) of one full unit identifier."""
    match = GRAMMAR.fullmatch(text, piece)
    return f"{match['head']}-{match['tail']}", match["first"]


def parse_kyoto(serial: str) -> UnitRange:
    text = GRAMMAR.text(serial)
    start, end = split_ends(NAME, text, _RANGE_SPLIT_RE)
    prefix, first = _unit(text, start)
    if end is None:
        return make_range(NAME, text, prefix, first, first)
    other_prefix, last = _unit(text, end)
    if other_prefix != prefix:
        raise SerialError(NAME, text, "the two ends of the block belong to different batches")
    return make_range(NAME, text, prefix, first, last)


def format_kyoto(unit_range: UnitRange) -> str:
    head1, head2, *tail = GRAMMAR.prefix_parts(unit_range)
    head = f"{head1}-{head2}"
    rest = "-".join(tail)

    def unit(number: int) -> str:
        return f"{head}-{number}-{rest}"

    if unit_range.first == unit_range.last:
        return unit(unit_range.first)
    return f"{unit(unit_range.first)} - {unit(unit_range.last)}"
