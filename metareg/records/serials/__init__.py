"""Parsers for the serial numbers of underlying units (DOMAIN.md §2).

``parse_serial`` turns one programme's serial into a ``UnitRange`` (batch prefix plus an
inclusive block), so blocks recorded by different registries can be compared with
``ranges_intersect``. Every parser raises ``SerialError`` and nothing else.

Dispatch: each programme parser *claims* the serials that have its shape. A claimed
serial that is malformed is an error, not a case for the generic fallback, because the
generic reading of a broken Verra or UNDP serial takes the wrong number as the block
(the trailing flag or vintage) and would report false overlaps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, NamedTuple

from metareg.records.serials import apx, cercarbono, gold_standard, isometric, kyoto, undp, verra
from metareg.records.serials._base import MAX_SERIAL_TEXT, SerialError, UnitRange, clean
from metareg.records.serials.apx import format_apx, parse_apx
from metareg.records.serials.cercarbono import format_cercarbono, parse_cercarbono
from metareg.records.serials.generic import format_generic, parse_generic
from metareg.records.serials.gold_standard import format_gold_standard, parse_gold_standard
from metareg.records.serials.grammar import Grammar
from metareg.records.serials.isometric import parse_isometric
from metareg.records.serials.kyoto import format_kyoto, parse_kyoto
from metareg.records.serials.undp import format_undp, parse_undp
from metareg.records.serials.verra import format_verra, parse_verra

__all__ = [
    "MAX_SERIAL_TEXT",
    "SerialError",
    "UnitRange",
    "format_apx",
    "format_cercarbono",
    "format_generic",
    "format_gold_standard",
    "format_kyoto",
    "format_undp",
    "format_verra",
    "parse_apx",
    "parse_cercarbono",
    "parse_generic",
    "parse_gold_standard",
    "parse_isometric",
    "parse_kyoto",
    "parse_serial",
    "parse_serial_range",
    "parse_undp",
    "parse_verra",
    "ranges_intersect",
    "registry_parsers",
]


class _Parser(NamedTuple):
    name: str
    claims: Callable[[str], bool]
    parse: Callable[[str], UnitRange]


def _programme(grammar: Grammar, parse: Callable[[str], UnitRange]) -> _Parser:
    return _Parser(grammar.name, grammar.claims, parse)


_VERRA: Final = _programme(verra.GRAMMAR, parse_verra)
_GOLD_STANDARD: Final = _programme(gold_standard.GRAMMAR, parse_gold_standard)
_KYOTO: Final = _programme(kyoto.GRAMMAR, parse_kyoto)
_APX: Final = _programme(apx.GRAMMAR, parse_apx)
_UNDP: Final = _programme(undp.GRAMMAR, parse_undp)
_CERCARBONO: Final = _programme(cercarbono.GRAMMAR, parse_cercarbono)
_ISOMETRIC: Final = _Parser(isometric.NAME, isometric.claims, parse_isometric)

# Auto-detection order. The claim shapes do not overlap, so the order only matters for
# speed; the common programmes come first.
_ALL: Final = (_VERRA, _GOLD_STANDARD, _APX, _UNDP, _KYOTO, _CERCARBONO, _ISOMETRIC)

# Underlying-unit registry id (normalised by _registry_key) -> the parsers for the serials
# it holds. The Gold Standard registry also lists CDM CERs in Kyoto form, and the
# Article 6.4 mechanism registry inherits CERs from the CDM. An empty tuple means "no
# programme format known": straight to the generic parser.
_BY_REGISTRY: Final[dict[str, tuple[_Parser, ...]]] = {
    "VCS": (_VERRA,),
    "VERRA": (_VERRA,),
    "GS": (_GOLD_STANDARD, _KYOTO),
    "GOLDSTANDARD": (_GOLD_STANDARD, _KYOTO),
    "ACR": (_APX,),
    "CAR": (_APX,),
    "ART": (_APX,),
    "ARTTREES": (_APX,),
    "FCPF": (_APX,),
    "ISFL": (_APX,),
    "UNDP": (_UNDP,),
    "CDM": (_KYOTO,),
    "KYOTO": (_KYOTO,),
    "A6.4": (_KYOTO,),
    "A6.4M": (_KYOTO,),
    "PACM": (_KYOTO,),
    "CERCARBONO": (_CERCARBONO,),
    "ECOREGISTRY": (_CERCARBONO,),
    "ISOMETRIC": (_ISOMETRIC,),
    "GCC": (),
    "TVER": (),
    "JCM": (),
}
_REGISTRY_NOISE_RE: Final = re.compile(r"[^A-Z0-9.]")


def _registry_key(registry: str) -> str:
    # 'T-VER', 'Gold Standard' and 'gold_standard' all name one registry.
    return _REGISTRY_NOISE_RE.sub("", registry.upper())


def registry_parsers(registry: str | None) -> tuple[str, ...]:
    """Names of the programme parsers tried for ``registry`` before the generic one."""
    return tuple(parser.name for parser in _candidates(registry))


def _candidates(registry: str | None) -> tuple[_Parser, ...]:
    if registry is None:
        return _ALL
    if not isinstance(registry, str):
        raise SerialError("registry", repr(registry), "the registry id must be text or None")
    # An unknown registry id is not an error: it may be a national registry we have not
    # met yet, and detecting the serial by its shape is the best we can do.
    return _BY_REGISTRY.get(_registry_key(registry), _ALL)


def parse_serial(serial: str, registry: str | None = None) -> UnitRange:
    """Read an underlying unit serial (or block of them) as a ``UnitRange``.

    ``registry`` is the underlying unit registry id (VCS, GS, ACR, CAR, ART, UNDP, ...);
    None detects the programme from the serial's shape.
    """
    candidates = _candidates(registry)
    text = clean(serial, "underlying unit")
    for parser in candidates:
        if parser.claims(text):
            return parser.parse(text)
    return parse_generic(text)


def parse_serial_range(first_unit_id: str, last_unit_id: str, registry: str | None) -> UnitRange:
    """The block from the AEF's ``First unit ID`` to its ``Last unit ID``.

    Both ends must belong to one batch (same prefix); the result covers from the first
    unit of the first to the last unit of the last, since either may itself be a block.
    """
    start = parse_serial(first_unit_id, registry)
    end = parse_serial(last_unit_id, registry)
    if start.prefix != end.prefix:
        raise SerialError(
            "unit ID range",
            f"{first_unit_id} .. {last_unit_id}",
            f"the first and last unit IDs are from different batches "
            f"({start.prefix!r} and {end.prefix!r})",
        )
    if end.last < start.first:
        raise SerialError(
            "unit ID range",
            f"{first_unit_id} .. {last_unit_id}",
            "the last unit ID comes before the first",
        )
    return UnitRange(start.prefix, start.first, end.last)


def ranges_intersect(a: UnitRange, b: UnitRange) -> bool:
    """Whether two ranges share at least one unit: same batch and overlapping blocks."""
    return a.prefix == b.prefix and a.first <= b.last and b.first <= a.last
